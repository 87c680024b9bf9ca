// Applies pending Prisma migrations (prisma/migrations) to DATABASE_URL, like
// `prisma migrate deploy`, using the WASM schema engine. Usage: npm run db:migrate
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { applyMigrations, sqliteFilePath } from '../src/db/migrate.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

if (existsSync('.env')) process.loadEnvFile('.env')

const databaseUrl = process.env.DATABASE_URL || 'file:./data/cat-data.db'
const migrationsDir = path.join(root, 'prisma', 'migrations')

try {
  console.log(`Applying migrations from ${path.relative(process.cwd(), migrationsDir) || '.'} to ${sqliteFilePath(databaseUrl)}`)
  const applied = await applyMigrations({ databaseUrl, migrationsDir })
  if (applied.length === 0) {
    console.log('No pending migrations to apply.')
  } else {
    for (const name of applied) console.log(`  applied ${name}`)
    console.log(`${applied.length} migration${applied.length === 1 ? '' : 's'} applied.`)
  }
} catch (err) {
  console.error('Migration failed:')
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
