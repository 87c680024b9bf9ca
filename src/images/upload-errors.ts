import { ApiError } from '../errors.js'

const ACCEPTED = 'JPEG, PNG, GIF, WebP or AVIF'

export const missingFile = () => new ApiError(400, 'missing_file', 'No image in the request: send it as multipart/form-data in a field named "file"')
export const wrongField = (field: string) => new ApiError(400, 'missing_file', `The image must be in a field named "file", not "${field}"`)
export const emptyFile = () => new ApiError(400, 'empty_file', 'The file is empty')
export const fileTooLarge = (limit: number) => new ApiError(413, 'file_too_large', `The file is larger than the limit of ${limit} bytes`)
export const notMultipart = () => new ApiError(415, 'invalid_content_type', 'Send the image as multipart/form-data')
export const unsupportedImage = () => new ApiError(415, 'unsupported_media_type', `The file is not a ${ACCEPTED} image`)

/** What @fastify/multipart and busboy throw, in the contract's terms. Server faults (file system) pass through. */
export function translateUploadError (error: unknown, limit: number): unknown {
  if (error instanceof ApiError) return error
  const { code, syscall } = error as { code?: unknown, syscall?: unknown }
  if (syscall !== undefined) return error
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE': return fileTooLarge(limit)
    case 'FST_FILES_LIMIT': return new ApiError(400, 'too_many_files', 'Send exactly one file per upload')
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT': return new ApiError(400, 'invalid_request', 'The form has too many parts')
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE': return notMultipart()
    case 'FST_PROTO_VIOLATION': return new ApiError(400, 'invalid_request', 'The form has a forbidden field name')
    case 'FST_MP_PREMATURE_CLOSE': return new ApiError(400, 'invalid_request', 'The upload was cut off before it was complete')
    default: return new ApiError(400, 'invalid_request', 'The multipart body is malformed')
  }
}
