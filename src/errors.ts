import { STATUS_CODES } from 'node:http'

/**
 * An error a client can cause. The error handler turns it into the contract's JSON shape
 * `{ statusCode, error, code, message }` and copies `headers` onto the reply.
 */
export class ApiError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly headers: Record<string, string>
  #json: string | undefined

  constructor (statusCode: number, code: string, message: string, headers: Record<string, string> = {}) {
    // What a client caused needs no stack, and capturing one was an eighth of a refusal's CPU.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(message)
    Error.stackTraceLimit = stackTraceLimit
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.code = code
    this.headers = headers
  }

  /** The contract's JSON for this error, made once: a refusal kept as a constant (an expired token) is sent as it is. */
  get json (): string {
    this.#json ??= JSON.stringify(errorBody(this.statusCode, this.code, this.message))
    return this.#json
  }
}

export interface ErrorBody {
  statusCode: number
  error: string
  code: string
  message: string
}

export function errorBody (statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message }
}

export const notFound = (message = 'Image not found') => new ApiError(404, 'not_found', message)
export const invalidId = () => new ApiError(400, 'invalid_id', 'Image id must be a positive integer')
