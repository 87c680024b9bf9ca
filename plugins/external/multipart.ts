import fastifyMultipart, { type FastifyMultipartOptions } from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'

export const autoConfig = (fastify: FastifyInstance): FastifyMultipartOptions => ({
  limits: {
    fileSize: fastify.config.MAX_UPLOAD_BYTES,
    files: 1,
    fields: 10,
    fieldSize: 1024,
    parts: 20,
    headerPairs: 100
  }
})

export default fastifyMultipart
