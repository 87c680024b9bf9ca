import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { resolve } from 'node:path'
import { ImageStore } from '../../src/images/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    imageStore: ImageStore
  }
}

/**
 * Opens the image folder and makes it agree with the database, so that a crash at any moment
 * leaves a consistent store: uploads in progress are removed, and files no row points at are swept.
 */
export default fp(async function imageStore (fastify: FastifyInstance) {
  const store = new ImageStore(resolve(fastify.config.UPLOAD_DIR))
  const leftovers = await store.prepare()
  if (leftovers > 0) fastify.log.info({ files: leftovers }, 'removed unfinished uploads')

  const known = new Set((await fastify.prisma.image.findMany({ select: { storageKey: true } })).map((row) => row.storageKey))
  const orphans = (await store.storedKeys()).filter((key) => !known.has(key))
  if (orphans.length > 0 && known.size === 0) {
    // An empty database beside stored files is more likely a wrong DATABASE_URL than a crash.
    fastify.log.warn({ files: orphans.length, dir: store.dir }, 'the database has no images but the folder has files; not sweeping them')
  } else if (orphans.length > 0) {
    await Promise.all(orphans.map((key) => store.remove(key)))
    fastify.log.info({ files: orphans.length }, 'swept files that no image row points at')
  }
  fastify.decorate('imageStore', store)
  // After the server has stopped (its onClose runs first): uploads cut off at shutdown remove their temporary files.
  fastify.addHook('onClose', async () => { await store.settled() })
}, { name: 'image-store', dependencies: ['prisma'] })
