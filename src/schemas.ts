import { Type, type Static } from 'typebox'

const errorFields = {
  statusCode: Type.Integer(),
  error: Type.String(),
  code: Type.String({ description: 'Stable, for programs' }),
  message: Type.String({ description: 'For people' })
}

/** A typical answer for each error status, shown as the example in the docs. */
const ERROR_EXAMPLES: Record<number, [string, string, string]> = {
  400: ['Bad Request', 'invalid_request', 'querystring/limit must be <= 100'],
  401: ['Unauthorized', 'invalid_token', 'Token has expired'],
  403: ['Forbidden', 'insufficient_scope', 'Token lacks the read:images scope'],
  404: ['Not Found', 'not_found', 'Image not found'],
  413: ['Payload Too Large', 'file_too_large', 'The file is larger than the limit of 10485760 bytes'],
  415: ['Unsupported Media Type', 'unsupported_media_type', 'The file is not a JPEG, PNG, GIF, WebP or AVIF image'],
  416: ['Range Not Satisfiable', 'range_not_satisfiable', 'The range is outside the image\'s 48213 bytes'],
  500: ['Internal Server Error', 'internal_error', 'Internal server error'],
  503: ['Service Unavailable', 'auth_unavailable', 'Token keys cannot be fetched from the identity provider; try again later']
}

/** Response schemas for the error statuses a route can answer, each with its own example. */
export function errorResponses (...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => {
    const [error, code, message] = ERROR_EXAMPLES[status] ?? ['Error', 'error', 'Error']
    return [status, Type.Object(errorFields, {
      description: `${error}: every error has this shape`,
      examples: [{ statusCode: status, error, code, message }]
    })]
  }))
}

/** Statuses every authenticated route can answer. */
export const AUTH_ERRORS = [400, 401, 403, 500, 503] as const

/** Ids travel as strict decimal text: `01`, `1e3` or `0x10` are not ids (the validator would otherwise coerce them). */
export const ImageId = Type.String({ pattern: '^[1-9][0-9]{0,9}$', description: 'Image id, a positive integer', examples: ['1'] })

export const ImageMetadata = Type.Object({
  id: Type.Integer({ examples: [1] }),
  name: Type.String({ description: 'Stored name: `<uuid>-<sanitised original name>`', examples: ['0b6c3c5e-6f0a-4c55-9d59-1c8d8a1e7d10-whiskers.png'] }),
  originalName: Type.String({ description: 'The client\'s file name, sanitised', examples: ['whiskers.png'] }),
  mimeType: Type.String({ examples: ['image/png'] }),
  size: Type.Integer({ description: 'Bytes', examples: [48213] }),
  width: Type.Integer({ examples: [640] }),
  height: Type.Integer({ examples: [480] }),
  sha256: Type.String({ description: 'Hex digest of the bytes', examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'] }),
  url: Type.String({ description: 'Where to download the bytes', examples: ['/api/image/1'] }),
  createdAt: Type.String({ format: 'date-time' })
}, { description: 'What the API knows about a stored image' })

export type ImageMetadataType = Static<typeof ImageMetadata>
