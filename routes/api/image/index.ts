import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createReadStream } from 'node:fs'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { AUTH_ERRORS, ImageId, ImageMetadata, errorResponses } from '../../../src/schemas.js'
import { ApiError, notFound } from '../../../src/errors.js'
import { matchesIfNoneMatch, parseRange } from '../../../src/images/http-cache.js'
import { imageIdFrom } from '../../../src/images/records.js'
import { sendImageJson } from '../../../src/images/catalog.js'

const Params = Type.Object({ id: ImageId })
const ERRORS = errorResponses(...AUTH_ERRORS, 404)
const READ_CHUNK_BYTES = 256 * 1024
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif']

/** Binary answers, documented per image type so that the JSON errors keep their own content type. */
const imageBytes = (description: string) => ({
  description,
  content: Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) }]))
})

/** RFC 8187 ext-value: encodeURIComponent leaves ' ( ) * as they are, but they are not attr-chars. */
const extValue = (name: string) => encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const image: FastifyPluginAsyncTypebox = async (fastify) => {
  const { prisma, imageStore, imageCatalog } = fastify

  fastify.get('/:id', {
    onRequest: fastify.requireScope('read:images'),
    schema: {
      summary: 'Download an image',
      description: 'The image\'s bytes, with its stored content type, a strong ETag (its sha256) and long private caching: the bytes under an id never change. `If-None-Match` answers 304; one byte `Range` answers 206 (several ranges get the whole image), a range past the end 416. HEAD answers the same headers without the bytes. Another subject\'s image is 404.',
      tags: ['images'],
      security: [{ bearerAuth: [] }],
      params: Params,
      response: {
        200: imageBytes('The image'),
        206: imageBytes('The requested byte range'),
        304: Type.Null({ description: 'Not modified: the ETag in If-None-Match still holds' }),
        ...ERRORS,
        ...errorResponses(416)
      }
    }
  }, async (request, reply) => {
    const row = await imageCatalog.file(imageIdFrom(request.params.id), request.user.sub)
    if (row === undefined) throw notFound()
    const etag = `"${row.sha256}"`
    reply
      .header('etag', etag)
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('accept-ranges', 'bytes')
    if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send(null)

    const ifRange = request.headers['if-range']
    const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, row.size) : { kind: 'full' as const }
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${row.size}`)
      throw new ApiError(416, 'range_not_satisfiable', `The range is outside the image's ${row.size} bytes`)
    }
    const { start, end } = range.kind === 'partial' ? range : { start: 0, end: row.size - 1 }
    // The known end spares the read that finds end-of-file; a larger chunk reads a typical image at once.
    const bytes = createReadStream(imageStore.pathOf(row.storageKey), { start, end, highWaterMark: READ_CHUNK_BYTES })
    // Opened before the image's type is set: a missing file is then a plain 500 in JSON.
    await once(bytes, 'open')
    reply
      .type(row.mimeType)
      .header('content-disposition', `inline; filename*=UTF-8''${extValue(row.originalName)}`)
      .header('content-length', end - start + 1)
    if (range.kind === 'partial') reply.code(206).header('content-range', `bytes ${start}-${end}/${row.size}`)
    return reply.send(bytes)
  })

  fastify.get('/:id/metadata', {
    onRequest: fastify.requireScope('read:images'),
    schema: {
      summary: 'An image\'s metadata',
      description: 'What the API knows about one of your images. Another subject\'s image is 404.',
      tags: ['images'],
      security: [{ bearerAuth: [] }],
      params: Params,
      response: { 200: ImageMetadata, ...ERRORS }
    }
  }, async (request, reply) => {
    const json = await imageCatalog.metadata(imageIdFrom(request.params.id), request.user.sub)
    if (json === undefined) throw notFound()
    return sendImageJson(reply, json)
  })

  fastify.delete('/:id', {
    onRequest: fastify.requireScope('delete:images'),
    schema: {
      summary: 'Delete an image',
      description: 'Removes one of your images: the row first, so no client ever sees a row without bytes, then the file. Another subject\'s image is 404.',
      tags: ['images'],
      security: [{ bearerAuth: [] }],
      params: Params,
      response: { 204: Type.Null({ description: 'Deleted' }), ...ERRORS }
    }
  }, async (request, reply) => {
    const where = { id: imageIdFrom(request.params.id), ownerSub: request.user.sub }
    const row = await imageCatalog.file(where.id, where.ownerSub)
    if (row === undefined) throw notFound()
    const { count } = await prisma.image.deleteMany({ where })
    if (count === 0) throw notFound()
    imageCatalog.forget(where.id)
    await imageStore.remove(row.storageKey)
    return reply.code(204).send(null)
  })
}

export default image
