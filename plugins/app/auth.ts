import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify'
import type { AddressInfo } from 'node:net'
import { KeySet } from '../../src/auth/key-set.js'
import { bearerError, invalidToken, missingToken, toAuthError } from '../../src/auth/errors.js'
import { ExpiredTokens } from '../../src/auth/expired-tokens.js'
import { VerifiedTokens } from '../../src/auth/verified-tokens.js'
import type { ApiError } from '../../src/errors.js'

export type Scope = 'read:images' | 'write:images' | 'delete:images'

/** What a route knows about the caller once the token is verified. */
export interface AuthUser {
  sub: string
  scopes: ReadonlySet<string>
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Record<string, unknown>
    user: AuthUser
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: verifies the Bearer token and sets `request.user`, or answers 400/401/503. */
    authenticate: onRequestHookHandler
    /** onRequest hook for a route: the caller's token must grant `scope` (when AUTH_REQUIRE_SCOPES is on). */
    requireScope: (scope: Scope) => onRequestHookHandler
  }
  interface FastifyRequest {
    /** The token authenticate() took from a well-formed Authorization header. */
    bearerToken: string
  }
}

/** RFC 6750 §2.1: `Bearer 1*SP b64token`. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
/** A compact JWS: three base64url segments (the signature may be empty, so that `alg: none` gets its own answer). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
/** BEARER and COMPACT_JWS in one pass, for the usual header; anything else goes through both for its exact answer. */
const BEARER_JWS = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i
/** The most common refusal, made once: it is the same answer every time. */
const TOKEN_EXPIRED = invalidToken('Token has expired')
const MAX_TOKEN_LENGTH = 8192
const MAX_KID_LENGTH = 256
const MAX_SUB_LENGTH = 255
/** Expired tokens remembered at most (fewer when TOKEN_CACHE_SIZE is smaller): 4 MB of token text at worst. */
const EXPIRED_TOKENS = 1024

export default fp(async function auth (fastify: FastifyInstance) {
  const env = fastify.config
  const clockToleranceMs = env.AUTH_CLOCK_TOLERANCE_S * 1000
  const settings = fastify.authSettings

  const keySet = new KeySet({
    url: settings.mode === 'auth0' ? settings.jwksUri : () => devKeySetUrl(fastify),
    cacheTtlMs: env.JWKS_CACHE_TTL_S * 1000,
    cooldownMs: env.JWKS_COOLDOWN_S * 1000,
    timeoutMs: env.JWKS_TIMEOUT_MS,
    onFetch: ({ url, ok, keys, error }) => {
      if (ok) fastify.log.info({ url, keys }, 'fetched the key set')
      else fastify.log.warn({ url, err: error }, 'could not fetch the key set')
    }
  })
  fastify.decorateRequest('bearerToken', '')

  await fastify.register(fastifyJwt, {
    decode: { complete: true },
    // The key comes from the configured key set, chosen by kid; nothing else in the token is trusted.
    secret: async (_request: FastifyRequest, token: unknown) => {
      const header = (token as { header?: { alg?: unknown, kid?: unknown } }).header ?? {}
      if (header.alg !== 'RS256') throw invalidToken('Token algorithm is not accepted')
      const kid = header.kid
      if (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH) throw invalidToken('Token has no usable key id')
      return keySet.getKey(kid)
    },
    verify: {
      // The token authenticate() has already checked; @fastify/jwt's own parser splits on single spaces.
      extractToken: (request: FastifyRequest) => request.bearerToken,
      algorithms: ['RS256'],
      allowedIss: settings.issuer,
      allowedAud: settings.audience,
      requiredClaims: ['iss', 'aud', 'sub', 'exp'],
      clockTolerance: clockToleranceMs,
      // Verified tokens are remembered in front of @fastify/jwt (below), where a repeat costs a map lookup.
      cache: false
    },
    messages: { authorizationTokenInvalid: (error: Error) => error.message },
    // Runs on the verified payload inside @fastify/jwt's callback chain, so a rejection here is just another
    // verification error that authenticate() maps; after it, `sub` is a usable string.
    trusted: async (_request: FastifyRequest, payload: Record<string, unknown>) => {
      if (typeof payload.sub !== 'string') throw invalidToken('Token claims have the wrong type')
      if (payload.sub === '' || payload.sub.length > MAX_SUB_LENGTH) throw invalidToken('Token subject is missing or invalid')
      return true
    },
    // formatUser runs in @fastify/jwt's final callback, outside any try: it must not throw, and does not
    // (`trusted` has checked sub; scopesOf checks every type it touches).
    formatUser: (payload) => ({ sub: payload.sub as string, scopes: scopesOf(payload) })
  })

  const verified = new VerifiedTokens<AuthUser>(env.TOKEN_CACHE_SIZE)
  const expired = new ExpiredTokens(Math.min(env.TOKEN_CACHE_SIZE, EXPIRED_TOKENS))
  const cachedKey = (kid: string) => keySet.cachedKey(kid)

  // Callback hooks, not async ones: a cache hit answers without a promise, and a refusal thrown from an
  // async function is a promise rejected before Fastify can handle it, which Node's rejection tracking
  // then works through (measurable per refused request).
  fastify.decorate('authenticate', function authenticate (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    let claims: TimeClaims
    try {
      const header = request.headers.authorization
      const now = Date.now()
      // Clients send `Bearer <token>`. A token remembered either way passed compactBearerToken when first
      // seen, so one found as it stands needs no pattern; anything else goes through it.
      let token = header?.startsWith('Bearer ') === true ? header.slice(7) : ''
      let known = verified.get(token, now, cachedKey)
      if (known === undefined && !expired.has(token)) {
        token = compactBearerToken(header)
        known = verified.get(token, now, cachedKey)
      }
      if (known !== undefined) {
        request.user = known.user
        return done()
      }
      if (expired.has(token)) throw TOKEN_EXPIRED
      claims = peek<TimeClaims>(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')))
      // Saying no to an expired token must be cheap: no key lookup, no RSA check. fast-jwt checks exp again.
      if (typeof claims.exp === 'number' && claims.exp * 1000 < now - clockToleranceMs) {
        expired.add(token)
        throw TOKEN_EXPIRED
      }
      request.bearerToken = token
    } catch (error) {
      // Answered on the next microtask: answering inside the HTTP parser's callback, before it has seen the
      // end of the request, makes Node drain the request as a stream (about 9 µs of a refusal here).
      queueMicrotask(() => { done(error as ApiError) })
      return
    }
    request.jwtVerify().then(() => {
      remember(request.bearerToken, claims, request.user)
      done()
    }, (error: unknown) => {
      const mapped = toAuthError(error)
      if (mapped.unexpected) request.log.warn({ err: error }, 'unexpected token verification error')
      done(mapped.error)
    })
  })

  /** After a full verification: the header and claims peeked at are the verified ones. */
  function remember (token: string, claims: TimeClaims, user: AuthUser): void {
    const { kid } = peek<{ kid?: unknown }>(token.slice(0, token.indexOf('.')))
    if (typeof kid !== 'string' || typeof claims.exp !== 'number') return
    const key = keySet.cachedKey(kid)
    if (key === undefined) return
    verified.set(token, {
      user: Object.freeze(user),
      kid,
      key,
      validFromMs: typeof claims.nbf === 'number' ? claims.nbf * 1000 - clockToleranceMs : -Infinity,
      validUntilMs: claims.exp * 1000 + clockToleranceMs
    })
  }

  fastify.decorate('requireScope', function requireScope (scope: Scope) {
    return function checkScope (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
      if (!env.AUTH_REQUIRE_SCOPES || request.user.scopes.has(scope)) return done()
      done(bearerError(403, 'insufficient_scope', `Token lacks the ${scope} scope`, scope))
    }
  })
}, { name: 'auth', dependencies: ['dev-issuer'] })

/** The compact JWS of a well-formed `Authorization: Bearer` header; the contract's error otherwise. */
function compactBearerToken (header: string | undefined): string {
  const usual = header === undefined || header.length > MAX_TOKEN_LENGTH ? undefined : BEARER_JWS.exec(header)?.[1]
  if (usual !== undefined) return usual
  if (header === undefined || !/^bearer(\s|$)/i.test(header)) throw missingToken()
  const token = BEARER.exec(header)?.[1]
  if (token === undefined) throw bearerError(400, 'invalid_request', 'Authorization header must be "Bearer <token>"')
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('Token is too large')
  if (!COMPACT_JWS.test(token)) throw invalidToken('Token is malformed')
  return token
}

interface TimeClaims { exp?: unknown, nbf?: unknown }

/** A segment of a token not yet verified, as JSON (an empty object where unreadable: fast-jwt will say why). */
function peek<T> (segment: string): T | Record<string, never> {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString()) as unknown
    return typeof value === 'object' && value !== null ? value as T : {}
  } catch {
    return {}
  }
}

function scopesOf (payload: Record<string, unknown>): Set<string> {
  const scopes = new Set<string>()
  if (typeof payload.scope === 'string') for (const scope of payload.scope.split(' ')) if (scope !== '') scopes.add(scope)
  if (Array.isArray(payload.permissions)) for (const p of payload.permissions) if (typeof p === 'string') scopes.add(p)
  return scopes
}

/** The development issuer serves its key set from this very server; ask it over loopback. */
function devKeySetUrl (fastify: FastifyInstance): string {
  const address = fastify.server.address() as AddressInfo | null
  if (address === null) throw new Error('the server is not listening, so the development key set cannot be fetched')
  const unspecified = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(address.address)
  const host = unspecified ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}/dev/jwks.json`
}
