import Database from 'better-sqlite3'
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

/**
 * The hot reads (listing, metadata, download lookups) as prepared statements on a read-only
 * connection. Prisma, which writes every row, costs about a millisecond a query here (it prepares
 * each statement anew and maps results through its query engine), several times what the rest of
 * such a request costs; these statements take microseconds. In WAL mode this connection always reads
 * the latest committed rows. Every statement is keyed by the owner, through the (owner_sub, id) index.
 */
export class ImageCatalog {
  readonly #db: Database.Database
  readonly #list: Database.Statement<[string, number, number], MetadataRow>
  readonly #metadata: Database.Statement<[number, string], MetadataRow>
  readonly #file: Database.Statement<[number, string], FileRow>

  constructor (filePath: string) {
    this.#db = new Database(filePath, { readonly: true, fileMustExist: true })
    // Rows as arrays: better-sqlite3 builds each row object property by property, which cost a listing more
    // than the query itself; toMetadata() makes objects of one shape, which serialise fast too.
    this.#list = this.#db.prepare<[string, number, number], MetadataRow>(`SELECT ${METADATA_COLUMNS} FROM images WHERE owner_sub = ? AND id < ? ORDER BY id DESC LIMIT ?`).raw(true)
    this.#metadata = this.#db.prepare<[number, string], MetadataRow>(`SELECT ${METADATA_COLUMNS} FROM images WHERE id = ? AND owner_sub = ?`).raw(true)
    this.#file = this.#db.prepare(`SELECT mime_type AS mimeType, size, sha256, storage_key AS storageKey, original_name AS originalName
      FROM images WHERE id = ? AND owner_sub = ?`)
  }

  /** The owner's images with ids below `beforeId` (all when undefined), newest first. */
  list (ownerSub: string, beforeId: number | undefined, limit: number): ImageMetadataType[] {
    return this.#list.all(ownerSub, beforeId ?? NO_CURSOR, limit).map(toMetadata)
  }

  metadata (id: number, ownerSub: string): ImageMetadataType | undefined {
    const row = this.#metadata.get(id, ownerSub)
    return row === undefined ? undefined : toMetadata(row)
  }

  file (id: number, ownerSub: string): FileRow | undefined {
    return this.#file.get(id, ownerSub)
  }

  close (): void {
    this.#db.close()
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
