import { ApiError, invalidId } from '../errors.js'

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
