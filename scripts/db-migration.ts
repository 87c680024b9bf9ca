// Creates a new migration from the difference between prisma/migrations and
// prisma/schema.prisma, like `prisma migrate dev --create-only --name <name>`.
// Usage: npm run db:migration -- <name>
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { diffMigrationSql, migrationLockfileContent } from '../src/db/migrate.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const migrationsDir = path.join(root, 'prisma', 'migrations')
const schemaPath = path.join(root, 'prisma', 'schema.prisma')

/** `20240131235959`, in UTC, as Prisma names migration folders. */
function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14)
}

/**
 * The name part of the folder, as `prisma migrate dev --name` makes it (slugify with `_`,
 * at most 200 characters): "Add owner index" / "addOwnerIndex" -> "add_owner_index".
 */
function migrationSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z\d]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200)
}

const rawName = process.argv.slice(2).join(' ')
const name = migrationSlug(rawName)
if (!name) {
  console.error('Usage: npm run db:migration -- <name>')
  process.exit(2)
}

try {
  const sql = await diffMigrationSql({ migrationsDir, schemaPath })
  if (sql.trim() === '') {
    console.log('schema and migrations are in step')
  } else {
    const folder = path.join(migrationsDir, `${timestamp()}_${name}`)
    if (existsSync(folder)) throw new Error(`The migration directory already exists at ${folder}`)
    await mkdir(folder, { recursive: true })
    await writeFile(path.join(folder, 'migration.sql'), sql, 'utf8')
    const lockfile = path.join(migrationsDir, 'migration_lock.toml')
    if (!existsSync(lockfile)) await writeFile(lockfile, migrationLockfileContent('sqlite'), 'utf8')
    console.log(`Created ${path.relative(process.cwd(), path.join(folder, 'migration.sql'))}:\n`)
    console.log(sql)
  }
} catch (err) {
  console.error('Could not create the migration:')
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
