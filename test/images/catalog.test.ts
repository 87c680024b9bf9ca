import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ImageCatalog, isoTimestamp } from '../../src/images/catalog.js'
import { migrationsDir } from '../../src/project.js'

t.test('createdAt is RFC 3339 in UTC whichever way the row holds it', async (t) => {
  t.equal(isoTimestamp('2026-12-03T19:20:09.215+00:00'), '2026-12-03T19:20:09.215Z', 'as Prisma writes it')
  t.equal(isoTimestamp('2026-12-03 19:20:09'), '2026-12-03T19:20:09.000Z', 'SQLite\'s CURRENT_TIMESTAMP, which is UTC')
  t.equal(isoTimestamp('2026-12-03T21:20:09.215+02:00'), '2026-12-03T19:20:09.215Z', 'another offset')
  t.equal(isoTimestamp(Date.UTC(2026, 11, 3, 19, 20, 9, 215)), '2026-12-03T19:20:09.215Z', 'epoch milliseconds')
})

/** A database with the real schema, and a second connection writing to it as the app's Prisma (or another process) would. */
function database (t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'cat-data-catalog-'))
  const file = join(dir, 'catalog.db')
  const writer = new Database(file)
  writer.pragma('journal_mode = WAL')
  for (const migration of readdirSync(migrationsDir).filter((name) => !name.endsWith('.toml')).sort()) {
    writer.exec(readFileSync(join(migrationsDir, migration, 'migration.sql'), 'utf8'))
  }
  const insert = writer.prepare(`INSERT INTO images (owner_sub, name, original_name, mime_type, size, width, height, sha256, storage_key, created_at, updated_at)
    VALUES (?, ?, ?, 'image/png', 10, 2, 3, 'ab', ?, '2026-12-03T19:20:09.215+00:00', '2026-12-03T19:20:09.215+00:00')`)
  let n = 0
  const add = (owner: string) => Number(insert.run(owner, `n${++n}-cat.png`, 'cat.png', `key-${n}`).lastInsertRowid)
  t.teardown(() => { writer.close(); rmSync(dir, { recursive: true, force: true }) })
  return { file, writer, add }
}

const listed = async (catalog: ImageCatalog, owner: string, limit = 100) => {
  const { ids, items } = await catalog.list(owner, undefined, limit)
  return { ids, images: items.map((json) => JSON.parse(json) as { id: number, url: string, createdAt: string }) }
}

t.test('the JSON kept in memory never decides which images exist or whose they are', async (t) => {
  const { file, writer, add } = database(t)
  const catalog = new ImageCatalog(file, { capacity: 3 })
  t.teardown(() => { catalog.close() })
  const mine = [add('alice'), add('alice'), add('bob'), add('alice')]

  const first = await listed(catalog, 'alice')
  t.same(first.ids, [mine[3], mine[1], mine[0]], 'newest first, only the owner\'s')
  t.same(first.images.map((image) => image.id), first.ids, 'each item is its own image')
  t.match(first.images[0], { url: `/api/image/${mine[3]}`, createdAt: '2026-12-03T19:20:09.215Z' })
  t.same((await listed(catalog, 'alice')).images, first.images, 'the same again, now from memory')

  const added = add('alice')
  t.same((await listed(catalog, 'alice')).ids, [added, mine[3], mine[1], mine[0]], 'a row written by another connection shows at once')
  writer.prepare('DELETE FROM images WHERE id = ?').run(mine[1])
  t.same((await listed(catalog, 'alice')).ids, [added, mine[3], mine[0]], 'a row deleted elsewhere (not forgotten here) is gone at once')
  t.equal(await catalog.metadata(mine[1] as number, 'alice'), undefined, 'and has no metadata')

  t.equal(await catalog.metadata(mine[0] as number, 'bob'), undefined, 'another subject\'s image has none, though its JSON is in memory')
  t.equal(JSON.parse(await catalog.metadata(mine[2] as number, 'bob') as string).id, mine[2], 'its owner gets it')
  t.same((await listed(catalog, 'alice', 2)).ids, [added, mine[3]], 'a page of 2, with more kept than the capacity of 3 allows over time')
})

t.test('kept listing pages are per owner, cursor and limit, and go when another process writes', async (t) => {
  const { file, add } = database(t)
  const catalog = new ImageCatalog(file)
  t.teardown(() => { catalog.close() })
  const alice = [add('alice'), add('alice'), add('alice')]
  const bob = add('bob')
  for (let round = 0; round < 2; round++) {
    t.same((await catalog.list('alice', undefined, 2)).ids, [alice[2], alice[1]], `alice's first page (round ${round})`)
    t.same((await catalog.list('bob', undefined, 2)).ids, [bob], `bob's, with the same cursor and limit (round ${round})`)
    t.same((await catalog.list('alice', alice[1], 2)).ids, [alice[0]], `alice's next page (round ${round})`)
    t.same((await catalog.list('alice', undefined, 3)).ids, [alice[2], alice[1], alice[0]], `another limit (round ${round})`)
  }
  // A separate process, not only a separate connection of this one, as when two servers share the file.
  const child = spawnSync(process.execPath, ['-e', `
    const Database = require('better-sqlite3')
    const db = new Database(process.argv[1])
    db.prepare("DELETE FROM images WHERE owner_sub = 'alice' AND id = ?").run(Number(process.argv[2]))
  `, file, String(alice[2])], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' })
  t.equal(child.status, 0, child.stderr)
  t.same((await catalog.list('alice', undefined, 2)).ids, [alice[1], alice[0]], 'a delete by another process shows at once')
})

t.test('what is known of an image is forgotten when another process deletes it', async (t) => {
  const { file, add } = database(t)
  const catalog = new ImageCatalog(file)
  t.teardown(() => { catalog.close() })
  const [gone, kept] = [add('alice'), add('alice')] as [number, number]
  for (let round = 0; round < 2; round++) {
    t.ok(await catalog.metadata(gone, 'alice'), `metadata (round ${round})`)
    t.match(await catalog.file(gone, 'alice'), { mimeType: 'image/png', size: 10, sha256: 'ab', storageKey: `key-${gone}`, originalName: 'cat.png' }, `file (round ${round})`)
  }
  t.equal(await catalog.file(gone, 'bob'), undefined, 'not to another subject')
  const child = spawnSync(process.execPath, ['-e', `
    const Database = require('better-sqlite3')
    new Database(process.argv[1]).prepare('DELETE FROM images WHERE id = ?').run(Number(process.argv[2]))
  `, file, String(gone)], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' })
  t.equal(child.status, 0, child.stderr)
  t.equal(await catalog.metadata(gone, 'alice'), undefined, 'no metadata once deleted elsewhere')
  t.equal(await catalog.file(gone, 'alice'), undefined, 'nor a file')
  t.ok(await catalog.file(kept, 'alice'), 'the other image is still there')
})

t.test('a lookup is answered after the commits that came before its turn\'s check, not as of its call', async (t) => {
  const { file, writer, add } = database(t)
  const catalog = new ImageCatalog(file)
  t.teardown(() => { catalog.close() })
  const id = add('alice')
  t.ok(await catalog.metadata(id, 'alice'), 'known')
  const [before, listing] = [catalog.metadata(id, 'alice'), catalog.list('alice', undefined, 10)]
  writer.prepare('DELETE FROM images WHERE id = ?').run(id)
  t.equal(await before, undefined, 'a lookup asked just before the delete, in the same turn, sees it: the check comes after both')
  t.same((await listing).ids, [], 'and so does a listing')
  const later = add('alice')
  t.same((await catalog.list('alice', undefined, 10)).ids, [later], 'the next turn sees the next commit')
})
