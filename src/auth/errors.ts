import { ApiError } from '../errors.js'
import { KeySetUnavailableError, UnknownKeyError } from './key-set.js'

export const REALM = 'cat-data-api'

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`

/**
 * RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E, so no double quote,
 * no backslash and nothing outside printable ASCII; the body's `message` keeps the original text.
 */
const description = (value: string) => `"${value.replace(/["\\]/g, '\'').replace(/[^\x20-\x7e]/g, '?')}"`

/** An RFC 6750 error: the status, the body's `code` and the WWW-Authenticate challenge agree. */
export function bearerError (
  statusCode: 400 | 401 | 403,
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
  message: string,
  scope?: string
): ApiError {
  let challenge = `Bearer realm=${quote(REALM)}, error=${quote(error)}, error_description=${description(message)}`
  if (scope !== undefined) challenge += `, scope=${quote(scope)}`
  return new ApiError(statusCode, error, message, { 'www-authenticate': challenge })
}

/** No credentials at all: RFC 6750 §3.1 says the challenge carries no error code. */
export function missingToken (): ApiError {
  return new ApiError(401, 'missing_token', 'Authorization header with a Bearer token is required', {
    'www-authenticate': `Bearer realm=${quote(REALM)}`
  })
}

export const invalidToken = (message: string) => bearerError(401, 'invalid_token', message)

const MESSAGE_BY_CODE: Record<string, string> = {
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: 'Token has expired',
  FAST_JWT_EXPIRED: 'Token has expired',
  FAST_JWT_INACTIVE: 'Token is not yet valid',
  FAST_JWT_INVALID_ALGORITHM: 'Token algorithm is not accepted',
  // An RS256 header with an empty signature segment: as good as a signature that does not verify.
  FAST_JWT_MISSING_SIGNATURE: 'Token signature is invalid',
  FAST_JWT_INVALID_SIGNATURE: 'Token signature is invalid',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'Token is missing a required claim',
  FAST_JWT_INVALID_CLAIM_TYPE: 'Token claims have the wrong type',
  FAST_JWT_INVALID_CRIT_HEADER: 'Token has an unsupported critical header',
  FAST_JWT_INVALID_PAYLOAD: 'Token is malformed',
  FAST_JWT_MALFORMED: 'Token is malformed',
  FAST_JWT_INVALID_TYPE: 'Token is malformed'
}

/**
 * @fastify/jwt rewraps several fast-jwt failures as FST_JWT_AUTHORIZATION_TOKEN_INVALID (and fast-jwt
 * reports several under one code), so the message tells them apart. Order matters: "The iss claim is
 * required." and "The iss claim must be a string." are about presence and type, not about the value.
 */
const MESSAGE_BY_TEXT: Array<[RegExp, string]> = [
  [/claim is required/, 'Token is missing a required claim'],
  [/claim must be/, 'Token claims have the wrong type'],
  [/signature is (invalid|missing)/, 'Token signature is invalid'],
  [/\baud claim/, 'Token audience is not accepted'],
  [/\biss claim/, 'Token issuer is not accepted'],
  [/malformed|base64|JSON|must be an object|must be a string or a buffer/i, 'Token is malformed'],
  [/will be active/, 'Token is not yet valid'],
  [/expired/i, 'Token has expired']
]

/** Maps anything token verification can throw to the contract's answer; never a 5xx but 503. */
export function toAuthError (error: unknown): { error: ApiError, unexpected: boolean } {
  if (error instanceof ApiError) return { error, unexpected: false }
  if (error instanceof UnknownKeyError) return { error: invalidToken('Token signing key is unknown'), unexpected: false }
  if (error instanceof KeySetUnavailableError) {
    return {
      error: new ApiError(503, 'auth_unavailable', 'Token keys cannot be fetched from the identity provider; try again later', {
        'retry-after': String(error.retryAfterS)
      }),
      unexpected: false
    }
  }
  const code = (error as { code?: unknown } | null)?.code
  const text = error instanceof Error ? error.message : ''
  const byCode = typeof code === 'string' ? MESSAGE_BY_CODE[code] : undefined
  if (byCode !== undefined) return { error: invalidToken(byCode), unexpected: false }
  for (const [pattern, message] of MESSAGE_BY_TEXT) {
    if (pattern.test(text)) return { error: invalidToken(message), unexpected: false }
  }
  return { error: invalidToken('Token is invalid'), unexpected: true }
}
