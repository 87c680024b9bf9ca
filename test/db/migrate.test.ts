import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils'
import t from 'tap'
import { applyMigrations, diffMigrationSql, sqliteFilePath } from '../../src/db/migrate.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const migrationsDir = path.join(root, 'prisma', 'migrations')
const schemaPath = path.join(root, 'prisma', 'schema.prisma')

// There are no @types for better-sqlite3 in this project; query through the Prisma adapter.
async function open(t: { teardown: (fn: () => unknown) => void }, file: string): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaBetterSqlite3({ url: file, timeout: 500 }).connect()
  t.teardown(() => adapter.dispose())
  return adapter
}

async function query<T>(db: SqlDriverAdapter, sql: string): Promise<T[]> {
  const result = await db.queryRaw({ sql, args: [], argTypes: [] })
  return result.rows.map((row) => Object.fromEntries(result.columnNames.map((name, i) => [name, row[i]])) as T)
}

const migrationFolders = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()

t.test('sqliteFilePath resolves Prisma SQLite URLs', async (t) => {
  t.equal(sqliteFilePath('file:/abs/dir/db.sqlite'), '/abs/dir/db.sqlite')
  t.equal(sqliteFilePath('file:./data/cat-data.db'), path.resolve('data/cat-data.db'))
  t.equal(sqliteFilePath('file:rel.db?connection_limit=1'), path.resolve('rel.db'))
  t.equal(sqliteFilePath('file:///abs/x%20y.db'), '/abs/x y.db')
  t.throws(() => sqliteFilePath('file::memory:'))
})

t.test('applyMigrations builds the schema and is idempotent', async (t) => {
  t.ok(migrationFolders.length > 0, 'there is at least one migration')
  const dir = t.testdir()
  const dbFile = path.join(dir, 'nested', 'folder', 'test.db')
  const databaseUrl = `file:${dbFile}`

  const applied = await applyMigrations({ databaseUrl, migrationsDir })
  t.same(applied, migrationFolders, 'applies every migration folder, in order')

  const db = await open(t, dbFile)
  const objects = await query<{ type: string, name: string }>(
    db,
    "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'"
  )
  t.ok(objects.some((o) => o.type === 'table' && o.name === 'images'), 'images table exists')
  t.ok(objects.some((o) => o.type === 'index' && o.name === 'images_owner_sub_id_idx'), 'owner index exists')
  t.ok(objects.some((o) => o.type === 'index' && o.name === 'images_storage_key_key'), 'storage key index exists')

  type Row = {
    migration_name: string
    checksum: string
    finished_at: unknown
    finished_type: string
    rolled_back_at: unknown
    logs: unknown
    applied_steps_count: unknown
  }
  const rows = await query<Row>(
    db,
    `SELECT migration_name, checksum, finished_at, typeof(finished_at) AS finished_type, rolled_back_at, logs,
            applied_steps_count
       FROM _prisma_migrations ORDER BY migration_name`
  )
  t.same(rows.map((r) => r.migration_name), migrationFolders, 'one _prisma_migrations row per migration folder')
  for (const row of rows) {
    t.not(row.finished_at, null, `${row.migration_name} finished`)
    t.equal(row.finished_type, 'integer', 'timestamps are epoch ms, as the native engine writes them')
    t.equal(row.rolled_back_at, null)
    t.equal(row.logs, null)
    t.equal(Number(row.applied_steps_count), 1)
    t.match(row.checksum, /^[0-9a-f]{64}$/)
  }

  const again = await applyMigrations({ databaseUrl, migrationsDir })
  t.same(again, [], 'a second run applies nothing')
  const [count] = await query<{ n: unknown }>(db, 'SELECT count(*) AS n FROM _prisma_migrations')
  t.equal(Number(count?.n), migrationFolders.length, 'no extra rows after the second run')
})

t.test('the connection is released after migrating', async (t) => {
  const dbFile = path.join(t.testdir(), 'locked.db')
  await applyMigrations({ databaseUrl: `file:${dbFile}`, migrationsDir })
  // The engine uses PRAGMA locking_mode=EXCLUSIVE; a writer must be able to get in afterwards.
  const db = await open(t, dbFile)
  const changed = await db.executeRaw({
    sql: "INSERT INTO images (owner_sub, name, original_name, mime_type, size, width, height, sha256, storage_key, updated_at) VALUES ('u', 'n', 'o', 'image/png', 1, 1, 1, 'x', 'k', 0)",
    args: [],
    argTypes: []
  })
  t.equal(changed, 1, 'a second connection can write')
})

t.test('schema.prisma and prisma/migrations are in step', async (t) => {
  const sql = await diffMigrationSql({ migrationsDir, schemaPath })
  t.equal(sql, '', 'schema.prisma changed without a migration: run `npm run db:migration -- <name>`')
})
