import Database from 'better-sqlite3'
import type { FastifyReply } from 'fastify'
import type { ImageMetadataType } from '../schemas.js'

/** What a download needs to know about an image. */
export interface FileRow {
  mimeType: string
  size: number
  sha256: string
  storageKey: string
  originalName: string
}

/** The columns an image's API shape is made from, in the order toMetadata() reads them. */
const METADATA_COLUMNS = 'id, name, original_name, mime_type, size, width, height, sha256, created_at'
type MetadataRow = [id: number, name: string, originalName: string, mimeType: string, size: number, width: number, height: number, sha256: string, createdAt: string | number]
/** Larger than any id, so that a first page and a later one share a statement. */
const NO_CURSOR = 2 ** 31

/** An image's metadata as JSON text, in the API's shape (ImageMetadata). */
export type ImageJson = string & { readonly __imageJson: unique symbol }

/** Sends an image's JSON as it is: it is already in the route's response shape, so nothing is serialised. */
export function sendImageJson (reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** A page of a listing: the ids (for the cursor) and each image's JSON, newest first. */
export interface ListedImages {
  ids: readonly number[]
  items: ImageJson[]
}

/** How many images' JSON is kept; about 400 bytes each. */
const RENDERED_CAPACITY = 20_000
/** How many listing pages' ids are kept between changes to the database; at most 101 ids each (a page and one more). */
const PAGE_CAPACITY = 1000

/**
 * The hot reads (listing, metadata, download lookups) as prepared statements on a read-only
 * connection. Prisma, which writes every row, costs about a millisecond a query here (it prepares
 * each statement anew and maps results through its query engine), several times what the rest of
 * such a request costs; these statements take microseconds. In WAL mode this connection always reads
 * the latest committed rows. Every statement is keyed by the owner, through the (owner_sub, id) index.
 *
 * An image's row never changes once written, and AUTOINCREMENT never gives a deleted image's id to
 * another, so an id's JSON, once made, is right for as long as that id exists. Turning 20 rows of 9
 * columns into JS values and serialising them cost most of a listing; a listing takes each image's JSON
 * from memory. Which ids a page holds is kept too, per owner, cursor and limit, but only while the
 * database is unchanged: every listing first asks SQLite's `PRAGMA data_version`, which changes whenever
 * any other connection (Prisma here, or another process) has committed since it was last asked, and a
 * change empties the kept pages. Reading a page's ids through the index cost five times that question.
 */
export class ImageCatalog {
  readonly #db: Database.Database
  readonly #listIds: Database.Statement<[string, number, number], number>
  readonly #list: Database.Statement<[string, number, number], MetadataRow>
  readonly #owned: Database.Statement<[number, string], number>
  readonly #metadata: Database.Statement<[number, string], MetadataRow>
  readonly #file: Database.Statement<[number, string], FileRow>
  readonly #dataVersion: Database.Statement<[], number>
  readonly #rendered = new Map<number, ImageJson>()
  readonly #capacity: number
  /** Listing pages' ids by owner, cursor and limit, read while data_version was #pagesVersion. */
  readonly #pages = new Map<string, readonly number[]>()
  #pagesVersion: number | undefined

  constructor (filePath: string, options: { capacity?: number } = {}) {
    this.#capacity = options.capacity ?? RENDERED_CAPACITY
    this.#db = new Database(filePath, { readonly: true, fileMustExist: true })
    const page = 'FROM images WHERE owner_sub = ? AND id < ? ORDER BY id DESC LIMIT ?'
    this.#listIds = this.#db.prepare<[string, number, number], number>(`SELECT id ${page}`).pluck(true)
    // Rows as arrays: better-sqlite3 builds row objects property by property, which cost more than the query.
    this.#list = this.#db.prepare<[string, number, number], MetadataRow>(`SELECT ${METADATA_COLUMNS} ${page}`).raw(true)
    this.#dataVersion = this.#db.prepare<[], number>('PRAGMA data_version').pluck(true)
    this.#owned = this.#db.prepare<[number, string], number>('SELECT id FROM images WHERE id = ? AND owner_sub = ?').pluck(true)
    this.#metadata = this.#db.prepare<[number, string], MetadataRow>(`SELECT ${METADATA_COLUMNS} FROM images WHERE id = ? AND owner_sub = ?`).raw(true)
    this.#file = this.#db.prepare(`SELECT mime_type AS mimeType, size, sha256, storage_key AS storageKey, original_name AS originalName
      FROM images WHERE id = ? AND owner_sub = ?`)
  }

  /** The owner's images with ids below `beforeId` (all when undefined), newest first. */
  list (ownerSub: string, beforeId: number | undefined, limit: number): ListedImages {
    const before = beforeId ?? NO_CURSOR
    const ids = this.#pageIds(ownerSub, before, limit)
    const items: ImageJson[] = []
    for (const id of ids) {
      const json = this.#rendered.get(id)
      // One not in memory: read the whole page's rows, a snapshot of its own, and keep their JSON.
      if (json === undefined) return this.#listRows(ownerSub, before, limit)
      items.push(json)
    }
    return { ids, items }
  }

  metadata (id: number, ownerSub: string): ImageJson | undefined {
    if (this.#owned.get(id, ownerSub) === undefined) return undefined
    const json = this.#rendered.get(id)
    if (json !== undefined) return json
    const row = this.#metadata.get(id, ownerSub)
    return row === undefined ? undefined : this.#render(row)
  }

  file (id: number, ownerSub: string): FileRow | undefined {
    return this.#file.get(id, ownerSub)
  }

  /** Lets go of a deleted image's JSON (only to free the memory: its id is never listed again). */
  forget (id: number): void {
    this.#rendered.delete(id)
  }

  close (): void {
    this.#db.close()
  }

  #pageIds (ownerSub: string, before: number, limit: number): readonly number[] {
    const version = this.#dataVersion.get()
    if (version !== this.#pagesVersion) {
      this.#pages.clear()
      this.#pagesVersion = version
    }
    const key = `${limit} ${before} ${ownerSub}`
    let ids = this.#pages.get(key)
    if (ids === undefined) {
      ids = this.#listIds.all(ownerSub, before, limit)
      if (this.#pages.size >= PAGE_CAPACITY) this.#pages.delete(this.#pages.keys().next().value as string)
      this.#pages.set(key, ids)
    }
    return ids
  }

  #listRows (ownerSub: string, before: number, limit: number): ListedImages {
    const rows = this.#list.all(ownerSub, before, limit)
    return { ids: rows.map((row) => row[0]), items: rows.map((row) => this.#render(row)) }
  }

  #render (row: MetadataRow): ImageJson {
    const json = JSON.stringify(toMetadata(row)) as ImageJson
    if (this.#rendered.size >= this.#capacity) this.#rendered.delete(this.#rendered.keys().next().value as number)
    this.#rendered.set(row[0], json)
    return json
  }
}

/** An image row in the API's shape: the only place that shape is made. */
function toMetadata (row: MetadataRow): ImageMetadataType {
  return {
    id: row[0],
    name: row[1],
    originalName: row[2],
    mimeType: row[3],
    size: row[4],
    width: row[5],
    height: row[6],
    sha256: row[7],
    url: `/api/image/${row[0]}`,
    createdAt: isoTimestamp(row[8])
  }
}

/** How Prisma stores a DateTime in SQLite. */
const PRISMA_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/
const HAS_ZONE = /(?:[zZ]|[+-]\d\d:?\d\d)$/

/** RFC 3339 in UTC with milliseconds, from Prisma's form (cheaply), SQLite's CURRENT_TIMESTAMP (UTC) or epoch ms. */
export function isoTimestamp (value: string | number): string {
  if (typeof value === 'number') return new Date(value).toISOString()
  if (PRISMA_UTC.test(value)) return `${value.slice(0, 23)}Z`
  return new Date(HAS_ZONE.test(value) ? value : `${value.replace(' ', 'T')}Z`).toISOString()
}
