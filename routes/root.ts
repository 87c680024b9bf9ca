import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../src/schemas.js'
import { DOCS_PATH, version } from '../src/project.js'

const root: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: {
      summary: 'Service information',
      description: 'Names the service and says where its documentation is. Needs no token.',
      tags: ['service'],
      response: {
        200: Type.Object({
          name: Type.String({ examples: ['Cat Data API'] }),
          version: Type.String({ examples: [version] }),
          docs: Type.String({ examples: [DOCS_PATH] })
        }),
        ...errorResponses(500)
      }
    }
  }, async () => ({ name: 'Cat Data API', version, docs: DOCS_PATH }))
}

export default root
