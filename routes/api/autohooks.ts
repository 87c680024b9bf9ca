import type { FastifyInstance } from 'fastify'

/** Every /api route needs a verified token, checked before any body is read. */
export default async function apiHooks (fastify: FastifyInstance) {
  fastify.addHook('onRequest', fastify.authenticate)
}
