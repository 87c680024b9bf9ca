import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { access, constants } from 'node:fs/promises'
import { errorResponses } from '../src/schemas.js'

const Check = Type.Union([Type.Literal('ok'), Type.Literal('failing')])
const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('failing')]),
  checks: Type.Object({ database: Check, storage: Check })
})

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/health', {
    schema: {
      summary: 'Readiness',
      description: 'Checks that the database answers and the storage folder is writable. 503 names the failing part.',
      tags: ['service'],
      response: { 200: Health, 503: Health, ...errorResponses(500) }
    }
  }, async (_request, reply) => {
    const [database, storage] = await Promise.all([
      fastify.prisma.$queryRawUnsafe('SELECT 1').then(() => 'ok' as const, () => 'failing' as const),
      access(fastify.imageStore.tempDir, constants.W_OK).then(() => 'ok' as const, () => 'failing' as const)
    ])
    const ok = database === 'ok' && storage === 'ok'
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failing', checks: { database, storage } })
  })
}

export default health
