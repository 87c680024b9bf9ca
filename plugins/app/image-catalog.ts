import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ImageCatalog } from '../../src/images/catalog.js'
import { sqliteFilePath } from '../../src/db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Fast read-only lookups of image rows; writes go through `prisma`. */
    imageCatalog: ImageCatalog
  }
}

export default fp(async function imageCatalog (fastify: FastifyInstance) {
  const catalog = new ImageCatalog(sqliteFilePath(fastify.config.DATABASE_URL))
  fastify.decorate('imageCatalog', catalog)
  fastify.addHook('onClose', async () => { catalog.close() })
}, { name: 'image-catalog', dependencies: ['prisma'] })
