import t from 'tap'
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { AUDIENCE, bearer, buildApp, makeSigningKey, startIssuer, type TestIssuer } from '../helper.js'
import { multipart, png } from '../fixtures.js'
import { TokenError } from 'fast-jwt'
import { toAuthError } from '../../src/auth/errors.js'
import { KeySetUnavailableError, UnknownKeyError } from '../../src/auth/key-set.js'

const REALM = 'cat-data-api'
const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const nowS = () => Math.floor(Date.now() / 1000)

/** A compact JWS built by hand: any header, any payload, RS256-signed with `key` (or not signed). */
function craft (header: Record<string, unknown>, payload: unknown, key?: KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return key === undefined ? `${input}.` : `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`
}

/** The claims of a good token from `issuer`, with `overrides` applied (undefined removes a claim). */
function claims (issuer: TestIssuer, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { iss: issuer.issuer, aud: AUDIENCE, sub: 'auth0|alice', iat: nowS(), exp: nowS() + 3600, ...overrides }
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name]
  return base
}

function tokenFor (issuer: TestIssuer, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return craft({ alg: 'RS256', typ: 'JWT', kid: issuer.key.kid, ...header }, claims(issuer, overrides), createPrivateKey(issuer.key.privateKeyPem))
}

const challenge = (error: string, description: string, scope?: string) =>
  `Bearer realm="${REALM}", error="${error}", error_description="${description}"${scope === undefined ? '' : `, scope="${scope}"`}`

function assertError (t: Test, response: LightMyRequestResponse, status: number, code: string, message: string, wwwAuthenticate?: string) {
  t.equal(response.statusCode, status, `status ${status}`)
  t.same(response.json(), { statusCode: status, error: STATUS_CODES[status], code, message }, 'the body is exactly the contract shape')
  t.equal(response.headers['www-authenticate'], wwwAuthenticate, 'the WWW-Authenticate challenge')
}

const assertInvalidToken = (t: Test, response: LightMyRequestResponse, message: string) =>
  assertError(t, response, 401, 'invalid_token', message, challenge('invalid_token', message))

t.test('the Errors table, row by row, against GET /api/images', async (t) => {
  const { app, issuer } = await buildApp(t)
  const otherKeySameKid = createPrivateKey(makeSigningKey(issuer.key.kid).privateKeyPem)
  const key = createPrivateKey(issuer.key.privateKeyPem)
  const list = (headers: Record<string, string> = {}) => app.inject({ url: '/api/images', headers })
  const listWith = (token: string) => list(bearer(token))

  t.test('a good token lists the images', async (t) => {
    const response = await listWith(tokenFor(issuer))
    t.equal(response.statusCode, 200)
    t.same(response.json(), { images: [], nextCursor: null })
  })

  t.test('no Authorization header: 401 missing_token, a challenge with only the realm', async (t) => {
    assertError(t, await list(), 401, 'missing_token', 'Authorization header with a Bearer token is required', `Bearer realm="${REALM}"`)
  })

  t.test('another scheme (Basic): 401 missing_token', async (t) => {
    assertError(t, await list({ authorization: 'Basic abc' }), 401, 'missing_token', 'Authorization header with a Bearer token is required', `Bearer realm="${REALM}"`)
    assertError(t, await list({ authorization: 'Bearerish abc' }), 401, 'missing_token', 'Authorization header with a Bearer token is required', `Bearer realm="${REALM}"`)
  })

  t.test('Bearer with no token, or with characters a token cannot have: 400 invalid_request', async (t) => {
    const message = 'Authorization header must be "Bearer <token>"'
    // RFC 6750 §3: error_description may not contain a double quote or a backslash.
    const expected = challenge('invalid_request', 'Authorization header must be \'Bearer <token>\'')
    for (const authorization of ['Bearer', 'Bearer ', 'bearer   ', 'Bearer a b', 'Bearer a,b', 'Bearer a"b', 'Bearer\tabc', `Bearer ${tokenFor(issuer)} x`]) {
      assertError(t, await list({ authorization }), 400, 'invalid_request', message, expected)
    }
  })

  t.test('the scheme is case-insensitive and more than one space is allowed (RFC 6750 1*SP)', async (t) => {
    const token = tokenFor(issuer)
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer  ${token}`]) {
      t.equal((await list({ authorization })).statusCode, 200, authorization.slice(0, 9))
    }
  })

  t.test('malformed tokens: 401 Token is malformed', async (t) => {
    const good = tokenFor(issuer)
    const [h, p, s] = good.split('.') as [string, string, string]
    const cases: Record<string, string> = {
      'two segments': `${h}.${p}`,
      'four segments': `${h}.${p}.${s}.${s}`,
      'one segment': h,
      'empty header segment': `.${p}.${s}`,
      'header is not base64url': `${h}~.${p}.${s}`,
      'payload is standard base64 with + and /': `${h}.${p}+/.${s}`,
      'signature is standard base64': `${h}.${p}.${s}+/`,
      'a padded signature': `${h}.${p}.${s}=`,
      'header is not JSON': `${b64url('not json')}.${p}.${s}`,
      'payload is not JSON': `${h}.${b64url('{"sub":')}.${s}`,
      'payload is a JSON array': `${h}.${b64url([1, 2])}.${s}`,
      'payload is a JSON number': `${h}.${b64url('42')}.${s}`,
      'payload is JSON null': `${h}.${b64url('null')}.${s}`,
      'payload is a JSON string': `${h}.${b64url('"hello"')}.${s}`,
      'header is a JSON array': `${b64url(['RS256'])}.${p}.${s}`
    }
    for (const [name, token] of Object.entries(cases)) {
      t.test(name, async (t) => assertInvalidToken(t, await listWith(token), 'Token is malformed'))
    }
  })

  t.test('expired: Token has expired', async (t) => {
    assertInvalidToken(t, await listWith(tokenFor(issuer, { iat: nowS() - 7200, exp: nowS() - 3600 })), 'Token has expired')
  })

  t.test('nbf in the future: Token is not yet valid', async (t) => {
    assertInvalidToken(t, await listWith(tokenFor(issuer, { nbf: nowS() + 3600 })), 'Token is not yet valid')
  })

  t.test('signed by another key under the same kid: Token signature is invalid', async (t) => {
    const token = craft({ alg: 'RS256', kid: issuer.key.kid }, claims(issuer), otherKeySameKid)
    assertInvalidToken(t, await listWith(token), 'Token signature is invalid')
    const good = tokenFor(issuer).split('.')
    const tampered = tokenFor(issuer, { sub: 'auth0|mallory' }).split('.')
    assertInvalidToken(t, await listWith(`${good[0]}.${tampered[1]}.${good[2]}`), 'Token signature is invalid')
  })

  t.test('wrong audience: Token audience is not accepted', async (t) => {
    for (const aud of ['https://other.example', ['https://other.example'], [], `${AUDIENCE}/`]) {
      assertInvalidToken(t, await listWith(tokenFor(issuer, { aud })), 'Token audience is not accepted')
    }
  })

  t.test('aud as an array containing the audience is accepted', async (t) => {
    t.equal((await listWith(tokenFor(issuer, { aud: ['https://other.example', AUDIENCE] }))).statusCode, 200)
  })

  t.test('wrong issuer: Token issuer is not accepted', async (t) => {
    for (const iss of ['https://evil.example/', issuer.issuer.slice(0, -1), `${issuer.issuer}x/`]) {
      assertInvalidToken(t, await listWith(tokenFor(issuer, { iss })), 'Token issuer is not accepted')
    }
  })

  t.test('a required claim missing: Token is missing a required claim', async (t) => {
    for (const claim of ['sub', 'iss', 'aud', 'exp']) {
      t.test(`no ${claim}`, async (t) => assertInvalidToken(t, await listWith(tokenFor(issuer, { [claim]: undefined })), 'Token is missing a required claim'))
    }
  })

  t.test('a claim of the wrong type: Token claims have the wrong type', async (t) => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['exp "soon"', { exp: 'soon' }],
      ['exp as a numeric string', { exp: String(nowS() + 3600) }],
      ['exp null', { exp: null }],
      ['exp an array', { exp: [nowS() + 3600] }],
      ['nbf a string', { nbf: 'now' }],
      ['iss an array', { iss: [issuer.issuer] }],
      ['iss a number', { iss: 1 }],
      ['aud a number', { aud: 7 }],
      ['aud an array with a number', { aud: [AUDIENCE, 7] }],
      ['sub a number', { sub: 12345 }],
      ['sub an object', { sub: { id: 'alice' } }]
    ]
    for (const [name, overrides] of cases) {
      t.test(name, async (t) => assertInvalidToken(t, await listWith(tokenFor(issuer, overrides)), 'Token claims have the wrong type'))
    }
  })

  t.test('sub empty or over 255 characters: Token subject is missing or invalid', async (t) => {
    for (const sub of ['', 'x'.repeat(256)]) {
      assertInvalidToken(t, await listWith(tokenFor(issuer, { sub })), 'Token subject is missing or invalid')
    }
    t.equal((await listWith(tokenFor(issuer, { sub: 'x'.repeat(255) }))).statusCode, 200, '255 characters is fine')
  })

  t.test('an unsupported crit header: Token has an unsupported critical header', async (t) => {
    for (const crit of [['exp'], ['foo'], [], 'foo']) {
      assertInvalidToken(t, await listWith(tokenFor(issuer, {}, { crit, foo: 1 })), 'Token has an unsupported critical header')
    }
  })

  t.test('a kid the key set does not have: Token signing key is unknown', async (t) => {
    assertInvalidToken(t, await listWith(tokenFor(issuer, {}, { kid: 'not-a-known-kid' })), 'Token signing key is unknown')
  })

  t.test('a token over 8192 characters: Token is too large', async (t) => {
    const token = tokenFor(issuer, { padding: 'x'.repeat(8192) })
    t.ok(token.length > 8192)
    assertInvalidToken(t, await listWith(token), 'Token is too large')
  })

  t.test('a token just under the limit verifies', async (t) => {
    const base = tokenFor(issuer, { padding: '' }).length
    const token = tokenFor(issuer, { padding: 'x'.repeat(Math.floor((8192 - base) * 3 / 4) - 4) })
    t.ok(token.length <= 8192 && token.length > 8000, `length ${token.length}`)
    t.equal((await listWith(token)).statusCode, 200)
  })

  t.test('an alg other than RS256: Token algorithm is not accepted', async (t) => {
    assertInvalidToken(t, await listWith(craft({ alg: 'none', kid: issuer.key.kid }, claims(issuer))), 'Token algorithm is not accepted')
    const rs512 = `${b64url({ alg: 'RS512', kid: issuer.key.kid })}.${b64url(claims(issuer))}`
    assertInvalidToken(t, await listWith(`${rs512}.${cryptoSign('sha512', Buffer.from(rs512), key).toString('base64url')}`), 'Token algorithm is not accepted')
  })

  t.test('no usable kid: Token has no usable key id', async (t) => {
    for (const kid of [undefined, '', 7, 'k'.repeat(257)]) {
      assertInvalidToken(t, await listWith(tokenFor(issuer, {}, { kid })), 'Token has no usable key id')
    }
  })
})

t.test('clock tolerance (AUTH_CLOCK_TOLERANCE_S)', async (t) => {
  const issuer = await startIssuer(t)
  const expired3sAgo = () => tokenFor(issuer, { iat: nowS() - 60, exp: nowS() - 3 })
  const notBeforeIn3s = () => tokenFor(issuer, { nbf: nowS() + 3 })

  t.test('with 5 s, a token expired 3 s ago (or valid in 3 s) passes', async (t) => {
    const { app } = await buildApp(t, { issuer, env: { AUTH_CLOCK_TOLERANCE_S: '5' } })
    t.equal((await app.inject({ url: '/api/images', headers: bearer(expired3sAgo()) })).statusCode, 200)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(notBeforeIn3s()) })).statusCode, 200)
  })

  t.test('with 0, the same tokens fail', async (t) => {
    const { app } = await buildApp(t, { issuer, env: { AUTH_CLOCK_TOLERANCE_S: '0' } })
    assertInvalidToken(t, await app.inject({ url: '/api/images', headers: bearer(expired3sAgo()) }), 'Token has expired')
    assertInvalidToken(t, await app.inject({ url: '/api/images', headers: bearer(notBeforeIn3s()) }), 'Token is not yet valid')
  })
})

t.test('authentication runs onRequest, before any body is read', async (t) => {
  const { app, issuer } = await buildApp(t)
  const { body, contentType } = multipart([{ name: 'file', filename: 'cat.png', type: 'image/png', data: png() }])
  const upload = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/upload', headers: { 'content-type': contentType, ...headers }, payload: body })

  assertError(t, await upload({}), 401, 'missing_token', 'Authorization header with a Bearer token is required', `Bearer realm="${REALM}"`)
  assertInvalidToken(t, await upload(bearer(tokenFor(issuer, { exp: nowS() - 3600 }))), 'Token has expired')
  const broken = await app.inject({ method: 'POST', url: '/api/upload', headers: { 'content-type': contentType }, payload: body.subarray(0, 40) })
  t.equal(broken.statusCode, 401, 'a cut-off body without a token is 401, not 400')
  const notMultipart = await app.inject({ method: 'POST', url: '/api/upload', headers: { 'content-type': 'application/json' }, payload: '{"not": "closed"' })
  t.equal(notMultipart.statusCode, 401, 'a bad JSON body without a token is 401, not 400/415')
})

t.test('scopes with AUTH_REQUIRE_SCOPES=true', async (t) => {
  const { app, issuer } = await buildApp(t, { env: { AUTH_REQUIRE_SCOPES: 'true' } })
  const { body, contentType } = multipart([{ name: 'file', filename: 'cat.png', type: 'image/png', data: png() }])
  const routes = [
    { scope: 'read:images', method: 'GET', url: '/api/images', okStatus: 200 },
    { scope: 'read:images', method: 'GET', url: '/api/image/999', okStatus: 404 },
    { scope: 'read:images', method: 'GET', url: '/api/image/999/metadata', okStatus: 404 },
    { scope: 'write:images', method: 'POST', url: '/api/upload', okStatus: 201 },
    { scope: 'delete:images', method: 'DELETE', url: '/api/image/999', okStatus: 404 }
  ] as const
  const call = (route: typeof routes[number], token: string) => app.inject({
    method: route.method,
    url: route.url,
    headers: { ...bearer(token), ...(route.method === 'POST' ? { 'content-type': contentType } : {}) },
    ...(route.method === 'POST' ? { payload: body } : {})
  })
  const everyScope = 'read:images write:images delete:images'

  for (const route of routes) {
    t.test(`${route.method} ${route.url} needs ${route.scope}`, async (t) => {
      const message = `Token lacks the ${route.scope} scope`
      const denied = (response: LightMyRequestResponse) =>
        assertError(t, response, 403, 'insufficient_scope', message, challenge('insufficient_scope', message, route.scope))
      denied(await call(route, tokenFor(issuer)))
      denied(await call(route, tokenFor(issuer, { scope: '' })))
      denied(await call(route, tokenFor(issuer, { scope: everyScope.replace(route.scope, '').trim() })))
      denied(await call(route, tokenFor(issuer, { permissions: everyScope.split(' ').filter((s) => s !== route.scope) })))
      denied(await call(route, tokenFor(issuer, { scope: `${route.scope}x` })))
      denied(await call(route, tokenFor(issuer, { scope: [route.scope] })))
      denied(await call(route, tokenFor(issuer, { permissions: route.scope })))
      t.equal((await call(route, tokenFor(issuer, { scope: route.scope }))).statusCode, route.okStatus, 'granted by scope')
      t.equal((await call(route, tokenFor(issuer, { scope: `openid  ${route.scope} profile` }))).statusCode, route.okStatus, 'granted among other scopes')
      t.equal((await call(route, tokenFor(issuer, { permissions: ['x', route.scope] }))).statusCode, route.okStatus, 'granted by permissions')
    })
  }

  t.test('an invalid token is still 401 before the scope is looked at', async (t) => {
    assertInvalidToken(t, await call(routes[0], tokenFor(issuer, { scope: everyScope, exp: nowS() - 3600 })), 'Token has expired')
  })
})

t.test('with AUTH_REQUIRE_SCOPES off, a token without scopes works everywhere', async (t) => {
  const { app, issuer } = await buildApp(t, { env: { AUTH_REQUIRE_SCOPES: 'false' } })
  const token = tokenFor(issuer)
  t.equal((await app.inject({ url: '/api/images', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/image/999/metadata', headers: bearer(token) })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/image/999', headers: bearer(token) })).statusCode, 404)
})

t.test('toAuthError maps anything verification can throw to 401 (or 503), never a 5xx', async (t) => {
  for (const code of Object.values(TokenError.codes)) {
    const { error } = toAuthError(new TokenError(code, 'some fast-jwt text'))
    t.equal(error.statusCode, 401, code)
    t.equal(error.code, 'invalid_token', code)
    t.match(error.headers['www-authenticate'], /^Bearer realm="cat-data-api", error="invalid_token", error_description="Token [^"]+"$/, code)
  }
  for (const thrown of [null, undefined, 42, 'text', {}, new Error('boom'), Object.assign(new Error('x'), { statusCode: 500 })]) {
    const { error, unexpected } = toAuthError(thrown)
    t.equal(error.statusCode, 401, `${String(thrown)}: 401`)
    t.equal(error.message, 'Token is invalid', `${String(thrown)}: a generic message, nothing of the original`)
    t.ok(unexpected, `${String(thrown)}: flagged for the log`)
  }
  t.equal(toAuthError(new UnknownKeyError()).error.message, 'Token signing key is unknown')
  const unavailable = toAuthError(new KeySetUnavailableError(7)).error
  t.equal(unavailable.statusCode, 503)
  t.same(unavailable.headers, { 'retry-after': '7' })
})
