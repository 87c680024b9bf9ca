import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUTH_ERRORS, ImageMetadata, errorResponses } from '../../src/schemas.js'
import { decodeCursor, encodeCursor } from '../../src/images/records.js'
import { sendImageJson } from '../../src/images/catalog.js'

const images: FastifyPluginAsyncTypebox = async (fastify) => {
  const { imageCatalog } = fastify

  fastify.get('/images', {
    onRequest: fastify.requireScope('read:images'),
    schema: {
      summary: 'List your images',
      description: 'Your images, newest first, a page at a time. While more remain, `nextCursor` is set and a `Link: <...>; rel="next"` header points at the next page.',
      tags: ['images'],
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Page size' }),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'From the previous page\'s `nextCursor`' }))
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          images: Type.Array(ImageMetadata),
          nextCursor: Type.Union([Type.String(), Type.Null()])
        }),
        ...errorResponses(...AUTH_ERRORS)
      }
    }
  }, async (request, reply) => {
    const { limit, cursor } = request.query
    const { ids, items } = await imageCatalog.list(request.user.sub, cursor === undefined ? undefined : decodeCursor(cursor), limit + 1)
    const more = ids.length > limit
    const nextCursor = more ? encodeCursor(ids[limit - 1] as number) : null
    if (nextCursor !== null) reply.header('link', `</api/images?limit=${limit}&cursor=${nextCursor}>; rel="next"`)
    const images = more ? items.slice(0, limit) : items
    return sendImageJson(reply, `{"images":[${images.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`)
  })
}

export default images
