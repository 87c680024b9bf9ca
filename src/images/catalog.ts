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

/** Rows come out in the API's shape, so that nothing is mapped per request; the only place that shape is made. */
const METADATA_COLUMNS = `id, name, original_name AS originalName, mime_type AS mimeType, size, width, height, sha256,
  '/api/image/' || id AS url, strftime('%Y-%m-%dT%H:%M:%fZ', created_at) AS createdAt`
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
  readonly #list: Database.Statement<[string, number, number], ImageMetadataType>
  readonly #metadata: Database.Statement<[number, string], ImageMetadataType>
  readonly #file: Database.Statement<[number, string], FileRow>

  constructor (filePath: string) {
    this.#db = new Database(filePath, { readonly: true, fileMustExist: true })
    this.#list = this.#db.prepare(`SELECT ${METADATA_COLUMNS} FROM images WHERE owner_sub = ? AND id < ? ORDER BY id DESC LIMIT ?`)
    this.#metadata = this.#db.prepare(`SELECT ${METADATA_COLUMNS} FROM images WHERE id = ? AND owner_sub = ?`)
    this.#file = this.#db.prepare(`SELECT mime_type AS mimeType, size, sha256, storage_key AS storageKey, original_name AS originalName
      FROM images WHERE id = ? AND owner_sub = ?`)
  }

  /** The owner's images with ids below `beforeId` (all when undefined), newest first. */
  list (ownerSub: string, beforeId: number | undefined, limit: number): ImageMetadataType[] {
    return this.#list.all(ownerSub, beforeId ?? NO_CURSOR, limit)
  }

  metadata (id: number, ownerSub: string): ImageMetadataType | undefined {
    return this.#metadata.get(id, ownerSub)
  }

  file (id: number, ownerSub: string): FileRow | undefined {
    return this.#file.get(id, ownerSub)
  }

  close (): void {
    this.#db.close()
  }
}
