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

/** An image's columns, in the order toMetadata() and #keep() read them. */
const ROW_COLUMNS = 'id, name, original_name, mime_type, size, width, height, sha256, created_at, owner_sub, storage_key'
type Row = [id: number, name: string, originalName: string, mimeType: string, size: number, width: number, height: number, sha256: string, createdAt: string | number, ownerSub: string, storageKey: string]
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

/** What is kept of an image: all of it, since a row never changes once written. */
interface ImageRecord {
  ownerSub: string
  json: ImageJson
  file: FileRow
}

/** How many images are kept in memory; about 700 bytes each. */
const RECORD_CAPACITY = 20_000
/** How many listing pages' ids are kept between changes to the database; at most 101 ids each (a page and one more). */
const PAGE_CAPACITY = 1000

/**
 * The hot reads (listing, metadata, download lookups) on a read-only connection. Prisma, which writes
 * every row, costs about a millisecond a query here (it prepares each statement anew and maps results
 * through its query engine), several times what the rest of such a request costs.
 *
 * An image's row never changes once written, and AUTOINCREMENT never gives a deleted image's id to
 * another, so what is read of an image (its JSON, what a download needs, its owner) is right for as long
 * as that id exists; it is kept. Whether it still exists, and which ids a listing page holds, are kept
 * only while the database is unchanged: SQLite's `PRAGMA data_version` changes whenever any other
 * connection (Prisma here, or another process) has committed since this one last asked, and a change
 * forgets them. That question is a statement too, and under load a statement costs a fifth of a
 * metadata request, so it is asked once per turn of the event loop for every lookup that turn: each
 * lookup waits for the check phase (setImmediate), which runs after every request read in the turn's
 * poll phase. A request sent after a commit anywhere is read after that commit, and the check comes
 * later still, so its lookup sees it.
 */
export class ImageCatalog {
  readonly #db: Database.Database
  readonly #listIds: Database.Statement<[string, number, number], number>
  readonly #list: Database.Statement<[string, number, number], Row>
  readonly #byId: Database.Statement<[number], Row>
  readonly #dataVersion: Database.Statement<[], number>
  readonly #capacity: number
  readonly #records = new Map<number, ImageRecord>()
  /** Ids read from the database since data_version was last seen to change. */
  readonly #present = new Set<number>()
  /** Listing pages' ids by owner, cursor and limit, read while data_version was #version. */
  readonly #pages = new Map<string, readonly number[]>()
  #version: number | undefined
  #turn: Promise<void> | undefined

  constructor (filePath: string, options: { capacity?: number } = {}) {
    this.#capacity = options.capacity ?? RECORD_CAPACITY
    this.#db = new Database(filePath, { readonly: true, fileMustExist: true })
    const page = 'FROM images WHERE owner_sub = ? AND id < ? ORDER BY id DESC LIMIT ?'
    this.#listIds = this.#db.prepare<[string, number, number], number>(`SELECT id ${page}`).pluck(true)
    // Rows as arrays: better-sqlite3 builds row objects property by property, which cost more than the query.
    this.#list = this.#db.prepare<[string, number, number], Row>(`SELECT ${ROW_COLUMNS} ${page}`).raw(true)
    this.#byId = this.#db.prepare<[number], Row>(`SELECT ${ROW_COLUMNS} FROM images WHERE id = ?`).raw(true)
    this.#dataVersion = this.#db.prepare<[], number>('PRAGMA data_version').pluck(true)
  }

  /** The owner's images with ids below `beforeId` (all when undefined), newest first. */
  async list (ownerSub: string, beforeId: number | undefined, limit: number): Promise<ListedImages> {
    await this.#fresh()
    const before = beforeId ?? NO_CURSOR
    const ids = this.#pageIds(ownerSub, before, limit)
    const items: ImageJson[] = []
    for (const id of ids) {
      const record = this.#records.get(id)
      // One not in memory: read the whole page's rows, a snapshot of its own, and keep them.
      if (record === undefined) return this.#listRows(ownerSub, before, limit)
      items.push(record.json)
    }
    return { ids, items }
  }

  /** The image's JSON, if it exists and is the owner's. */
  async metadata (id: number, ownerSub: string): Promise<ImageJson | undefined> {
    await this.#fresh()
    return this.#lookup(id, ownerSub)?.json
  }

  /** What a download needs, if the image exists and is the owner's. */
  async file (id: number, ownerSub: string): Promise<FileRow | undefined> {
    await this.#fresh()
    return this.#lookup(id, ownerSub)?.file
  }

  /** Lets go of a deleted image at once (the next turn's data_version would tell, too). */
  forget (id: number): void {
    this.#records.delete(id)
    this.#present.delete(id)
  }

  close (): void {
    this.#db.close()
  }

  /** Resolves in the next check phase, once data_version has been asked after every request read before it. */
  #fresh (): Promise<void> {
    this.#turn ??= new Promise((resolve, reject) => {
      setImmediate(() => {
        this.#turn = undefined
        try {
          const version = this.#dataVersion.get()
          if (version !== this.#version) {
            this.#present.clear()
            this.#pages.clear()
            this.#version = version
          }
          resolve()
        } catch (error) {
          reject(error)
        }
      })
    })
    return this.#turn
  }

  #lookup (id: number, ownerSub: string): ImageRecord | undefined {
    let record = this.#present.has(id) ? this.#records.get(id) : undefined
    if (record === undefined) {
      const row = this.#byId.get(id)
      if (row === undefined) return undefined
      record = this.#keep(row)
      this.#confirm(id)
    }
    return record.ownerSub === ownerSub ? record : undefined
  }

  #confirm (id: number): void {
    if (this.#present.size >= this.#capacity) this.#present.clear()
    this.#present.add(id)
  }

  #pageIds (ownerSub: string, before: number, limit: number): readonly number[] {
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
    return { ids: rows.map((row) => row[0]), items: rows.map((row) => this.#keep(row).json) }
  }

  #keep (row: Row): ImageRecord {
    const record: ImageRecord = {
      ownerSub: row[9],
      json: JSON.stringify(toMetadata(row)) as ImageJson,
      file: { mimeType: row[3], size: row[4], sha256: row[7], storageKey: row[10], originalName: row[2] }
    }
    if (this.#records.size >= this.#capacity) this.#records.delete(this.#records.keys().next().value as number)
    this.#records.set(row[0], record)
    return record
  }
}

/** An image row in the API's shape: the only place that shape is made. */
function toMetadata (row: Row): ImageMetadataType {
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
