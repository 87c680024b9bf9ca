import type { ImageMetadataType } from '../schemas.js'
import { ApiError, invalidId } from '../errors.js'

/** The columns a client may see, selected when an upload creates its row (reads go through ImageCatalog). */
export const metadataSelect = {
  id: true,
  name: true,
  originalName: true,
  mimeType: true,
  size: true,
  width: true,
  height: true,
  sha256: true,
  createdAt: true
} as const

export interface MetadataRow {
  id: number
  name: string
  originalName: string
  mimeType: string
  size: number
  width: number
  height: number
  sha256: string
  createdAt: Date
}

export function toMetadata (row: MetadataRow): ImageMetadataType {
  return {
    id: row.id,
    name: row.name,
    originalName: row.originalName,
    mimeType: row.mimeType,
    size: row.size,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    url: `/api/image/${row.id}`,
    createdAt: row.createdAt.toISOString()
  }
}

/** Listing cursors are opaque to clients: the last id seen, base64url-encoded. */
export function encodeCursor (id: number): string {
  return Buffer.from(`i${id}`).toString('base64url')
}

export function decodeCursor (cursor: string): number {
  const match = /^i([1-9]\d{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
  const id = match === null ? NaN : Number(match[1])
  if (!Number.isSafeInteger(id)) throw new ApiError(400, 'invalid_request', 'cursor is not one this API gave out')
  return id
}

const MAX_ID = 2147483647

/** The numeric id of a route's `:id`, already matched by ImageId's pattern; beyond SQLite's 32-bit ids it is invalid too. */
export function imageIdFrom (param: string): number {
  const id = Number(param)
  if (id > MAX_ID) throw invalidId()
  return id
}
