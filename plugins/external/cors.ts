import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

/** CORS_ORIGIN: a comma-separated list of origins allowed with credentials; `*` allows any origin without them; empty allows none. */
export const autoConfig = (fastify: FastifyInstance): FastifyCorsOptions => {
  const origins = fastify.config.CORS_ORIGIN.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '')
  const anyOrigin = origins.includes('*')
  return {
    origin: anyOrigin ? '*' : origins.length > 0 ? origins : false,
    credentials: !anyOrigin,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'if-none-match', 'range', 'x-request-id'],
    exposedHeaders: ['content-disposition', 'content-range', 'etag', 'link', 'location', 'retry-after', 'www-authenticate', 'x-request-id'],
    maxAge: 600,
    optionsSuccessStatus: 204
  }
}

export default cors
