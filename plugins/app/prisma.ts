import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../../src/generated/prisma/client.js'
import { applyMigrations } from '../../src/db/migrate.js'
import { migrationsDir } from '../../src/project.js'

declare module 'fastify' {
  interface FastifyInstance {
    prisma: PrismaClient
  }
}

/** Applies pending migrations, then opens the SQLite database in WAL mode. */
export default fp(async function prisma (fastify: FastifyInstance) {
  const url = fastify.config.DATABASE_URL
  const applied = await applyMigrations({ databaseUrl: url, migrationsDir })
  if (applied.length > 0) fastify.log.info({ migrations: applied }, 'applied database migrations')

  const client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) })
  await client.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await client.$queryRawUnsafe('PRAGMA busy_timeout = 5000')
  // In WAL mode NORMAL is durable against crashes; a power cut may lose the last commits, which leaves
  // files without rows (swept at start-up), never rows without files: image bytes are fsynced first.
  await client.$queryRawUnsafe('PRAGMA synchronous = NORMAL')
  fastify.decorate('prisma', client)
  fastify.addHook('onClose', async () => { await client.$disconnect() })
}, { name: 'prisma' })
