import { Type, type Static } from 'typebox'

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer({ examples: [401] }),
  error: Type.String({ examples: ['Unauthorized'] }),
  code: Type.String({ examples: ['invalid_token'] }),
  message: Type.String({ examples: ['Token has expired'] })
}, { $id: 'ErrorResponse', description: 'Every error has this shape; `code` is stable, `message` is for people.' })

const errorRef = Type.Ref('ErrorResponse')

/** Response schemas for the error statuses a route can answer. */
export function errorResponses (...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries(statuses.map((status) => [status, errorRef]))
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
