/** What a request's Range header asks of a representation of `size` bytes (RFC 9110 §14). */
export type RangeRequest =
  | { kind: 'full' }
  | { kind: 'partial', start: number, end: number }
  | { kind: 'unsatisfiable' }

const SINGLE_BYTE_RANGE = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i

/**
 * One byte range is served as 206; several ranges, other units or a malformed header are ignored
 * (the whole image, as RFC 9110 allows); a range that starts past the end is 416.
 */
export function parseRange (header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' }
  const match = SINGLE_BYTE_RANGE.exec(header)
  if (match === null) return { kind: 'full' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'full' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(size - suffix, 0), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end }
}

/** If-None-Match uses the weak comparison: `"x"`, `W/"x"` and `*` all match the strong tag `"x"`. */
export function matchesIfNoneMatch (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag === etag || tag === `W/${etag}`
  })
}
