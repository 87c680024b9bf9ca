import t from 'tap'
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { KeySet, KeySetUnavailableError, UnknownKeyError, parseKeySet, type KeySetOptions } from '../../src/auth/key-set.js'
import { AUDIENCE, bearer, buildApp, makeSigningKey, startIssuer, type KeySetMode, type SigningKey, type TestIssuer } from '../helper.js'

// Built once: RSA key generation is the slow part of these tests.
const keyB = makeSigningKey('key-b')
const mallory = makeSigningKey('mallory')
const OUTAGES: KeySetMode[] = ['refuse', 'hang', 'error500', 'html', 'empty-object', 'no-keys']

const pemOf = (key: SigningKey) => createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString()
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const nowS = () => Math.floor(Date.now() / 1000)

function tokenSignedBy (issuer: TestIssuer, key: KeyObject, kid: string): string {
  const input = `${b64url({ alg: 'RS256', kid })}.${b64url({ iss: issuer.issuer, aud: AUDIENCE, sub: 'auth0|alice', exp: nowS() + 3600 })}`
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`
}

type FetchEvent = Parameters<NonNullable<KeySetOptions['onFetch']>>[0]

/** A KeySet on a clock the test moves, that reports its fetches. */
function clockedKeySet (url: string, options: Partial<KeySetOptions> = {}) {
  let clock = 1_000_000
  const events: FetchEvent[] = []
  let waiters: Array<(event: FetchEvent) => void> = []
  const keySet = new KeySet({
    url,
    cacheTtlMs: 60_000,
    cooldownMs: 10_000,
    timeoutMs: 2_000,
    now: () => clock,
    onFetch: (event) => {
      events.push(event)
      const ready = waiters
      waiters = []
      // After a macrotask, so that the KeySet has also let go of the finished fetch.
      for (const resolve of ready) setImmediate(resolve, event)
    },
    ...options
  })
  return {
    keySet,
    events,
    advance: (ms: number) => { clock += ms },
    /** Resolves with the next fetch's outcome (for refreshes that run in the background). */
    nextFetch: () => new Promise<FetchEvent>((resolve) => waiters.push(resolve))
  }
}

/** A throwaway HTTP server for key-set endpoints the issuer helper does not cover. */
async function serve (t: Test, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string, hits: () => number }> {
  let hits = 0
  const server = createServer((request, response) => {
    hits++
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, hits: () => hits }
}

const rejectsWith = async (t: Test, promise: Promise<unknown>, type: new (...args: never[]) => Error, message = `rejects with ${type.name}`) => {
  try {
    await promise
    t.fail(`${message}: it resolved`)
  } catch (error) {
    t.type(error, type, message)
    return error
  }
}

t.test('KeySet, on its own', async (t) => {
  const issuer = await startIssuer(t)
  const kid = issuer.key.kid
  const pem = pemOf(issuer.key)

  t.test('200 concurrent lookups of a kid it has not seen share one fetch', async (t) => {
    const fetchesBefore = issuer.fetches
    const { keySet, events } = clockedKeySet(issuer.jwksUri)
    const keys = await Promise.all(Array.from({ length: 200 }, () => keySet.getKey(kid)))
    t.ok(keys.every((key) => key === pem), 'every caller gets the PEM of the public key')
    t.equal(events.length, 1, 'one fetch reported')
    t.same(events[0], { url: issuer.jwksUri, ok: true, keys: 1 })
    t.equal(issuer.fetches - fetchesBefore, 1, 'one request reached the provider')
    await keySet.getKey(kid)
    t.equal(issuer.fetches - fetchesBefore, 1, 'and the next lookup is served from the cache')
  })

  t.test('a flood of unknown kids costs at most one fetch per cooldown', async (t) => {
    const fetchesBefore = issuer.fetches
    const { keySet, advance } = clockedKeySet(issuer.jwksUri, { cooldownMs: 10_000 })
    await keySet.getKey(kid)
    advance(1_000)
    const within = await Promise.allSettled(Array.from({ length: 500 }, () => keySet.getKey(randomUUID())))
    t.ok(within.every((r) => r.status === 'rejected' && r.reason instanceof UnknownKeyError), 'within the cooldown: UnknownKeyError')
    t.equal(issuer.fetches - fetchesBefore, 1, 'and no fetch beyond the first')

    advance(10_000)
    const after = await Promise.allSettled(Array.from({ length: 500 }, () => keySet.getKey(randomUUID())))
    t.ok(after.every((r) => r.status === 'rejected' && r.reason instanceof UnknownKeyError), 'after it: still UnknownKeyError')
    t.equal(issuer.fetches - fetchesBefore, 2, 'after exactly one more fetch')
    advance(9_000)
    await Promise.allSettled(Array.from({ length: 100 }, () => keySet.getKey(randomUUID())))
    t.equal(issuer.fetches - fetchesBefore, 2, 'which starts a new cooldown')
    t.equal(await keySet.getKey(kid), pem, 'the known key is unaffected')
  })

  for (const mode of OUTAGES) {
    t.test(`provider down (${mode}): cached keys keep working past the TTL; others get KeySetUnavailableError`, async (t) => {
      issuer.mode = 'ok'
      t.teardown(() => { issuer.mode = 'ok' })
      const { keySet, advance, nextFetch } = clockedKeySet(issuer.jwksUri, { cacheTtlMs: 60_000, cooldownMs: 10_000, timeoutMs: 250 })
      await keySet.getKey(kid)
      issuer.mode = mode
      const fetchesBefore = issuer.fetches

      advance(61_000)
      const refreshed = nextFetch()
      t.equal(await keySet.getKey(kid), pem, 'a stale key is served at once, while a refresh runs in the background')
      const event = await refreshed
      t.equal(event.ok, false, 'the refresh failed')
      t.ok(event.error instanceof Error, 'and reported why')
      t.ok(issuer.fetches > fetchesBefore, 'the provider was asked')
      t.equal(await keySet.getKey(kid), pem, 'the key survives the failed refresh')

      const unavailable = await rejectsWith(t, keySet.getKey('not-cached'), KeySetUnavailableError, 'an uncached kid within the cooldown')
      t.equal((unavailable as KeySetUnavailableError).retryAfterS, 10, 'Retry-After is what is left of the cooldown')
      advance(10_000)
      const requestsBefore = issuer.fetches
      const again = await rejectsWith(t, keySet.getKey('not-cached'), KeySetUnavailableError, 'an uncached kid after the cooldown, once the new fetch fails')
      t.ok((again as KeySetUnavailableError).retryAfterS >= 1, 'Retry-After is at least one second')
      t.ok(issuer.fetches > requestsBefore, 'a new fetch was tried')
      advance(120_000)
      const stillDown = nextFetch()
      t.equal(await keySet.getKey(kid), pem, 'still served long after the TTL')
      t.equal((await stillDown).ok, false)

      issuer.mode = 'ok'
      advance(10_000)
      const recovered = nextFetch()
      await keySet.getKey(kid)
      t.equal((await recovered).ok, true, 'the provider is back')
      await rejectsWith(t, keySet.getKey('not-cached'), UnknownKeyError, 'an unknown kid is unknown again, not unavailable')
    })
  }

  t.test('key rotation is followed without a restart', async (t) => {
    issuer.keys = [issuer.key]
    t.teardown(() => { issuer.keys = [issuer.key] })
    const { keySet, advance, nextFetch } = clockedKeySet(issuer.jwksUri, { cacheTtlMs: 60_000, cooldownMs: 10_000 })
    t.equal(await keySet.getKey(kid), pem)

    issuer.keys = [issuer.key, keyB]
    advance(10_000)
    t.equal(await keySet.getKey(keyB.kid), pemOf(keyB), 'a new kid is fetched once the cooldown allows')
    issuer.keys = [keyB]
    advance(60_000)
    const refreshed = nextFetch()
    t.equal(await keySet.getKey(kid), pem, 'the retired key is still served until the refresh lands')
    t.equal((await refreshed).keys, 1)
    await rejectsWith(t, keySet.getKey(kid), UnknownKeyError, 'then the retired kid is gone')
    t.equal(await keySet.getKey(keyB.kid), pemOf(keyB), 'and the new one stays')
  })

  t.test('the fetch times out: a hanging provider fails within JWKS_TIMEOUT_MS', async (t) => {
    issuer.mode = 'hang'
    t.teardown(() => { issuer.mode = 'ok' })
    const { keySet, events } = clockedKeySet(issuer.jwksUri, { timeoutMs: 300 })
    const started = performance.now()
    await rejectsWith(t, keySet.getKey(kid), KeySetUnavailableError)
    const elapsed = performance.now() - started
    t.ok(elapsed >= 250 && elapsed < 2_000, `failed after ${Math.round(elapsed)} ms`)
    t.match(String((events[0]?.error as Error | undefined)?.name), /TimeoutError|AbortError/)
  })
})

t.test('KeySet against odd key-set endpoints', async (t) => {
  const issuer = await startIssuer(t)
  const document = JSON.stringify({ keys: [issuer.key.publicJwk] })

  t.test('a body that stalls after the headers times out too', async (t) => {
    const server = await serve(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"keys":[')
    })
    const { keySet } = clockedKeySet(server.url, { timeoutMs: 300 })
    const started = performance.now()
    await rejectsWith(t, keySet.getKey(issuer.key.kid), KeySetUnavailableError)
    t.ok(performance.now() - started < 2_000, 'within the timeout, not whenever the server gives up')
  })

  t.test('a response over the size cap is refused, declared or not', async (t) => {
    const declared = await serve(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(document) }).end(document)
    })
    const small = clockedKeySet(declared.url, { maxBytes: 200 })
    await rejectsWith(t, small.keySet.getKey(issuer.key.kid), KeySetUnavailableError, 'Content-Length over the cap')
    t.match((small.events[0]?.error as Error).message, /larger than 200 bytes/)
    const fits = clockedKeySet(declared.url, { maxBytes: Buffer.byteLength(document) })
    t.equal(await fits.keySet.getKey(issuer.key.kid), pemOf(issuer.key), 'exactly at the cap is fine')

    const endless = await serve(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => { while (response.write(chunk)); }
      response.on('drain', pump)
      pump()
    })
    const capped = clockedKeySet(endless.url, { timeoutMs: 10_000 })
    const started = performance.now()
    await rejectsWith(t, capped.keySet.getKey(issuer.key.kid), KeySetUnavailableError, 'an endless chunked body')
    t.match((capped.events[0]?.error as Error).message, /larger than 262144 bytes/)
    t.ok(performance.now() - started < 5_000, 'stops reading at the cap, long before the timeout')
  })

  t.test('redirects are not followed', async (t) => {
    const redirect = await serve(t, (_request, response) => { response.writeHead(302, { location: issuer.jwksUri }).end() })
    const fetchesBefore = issuer.fetches
    const { keySet } = clockedKeySet(redirect.url)
    await rejectsWith(t, keySet.getKey(issuer.key.kid), KeySetUnavailableError)
    t.equal(issuer.fetches, fetchesBefore, 'the redirect target was never asked')
  })

  t.test('keys that are not RS256 signing keys with a kid are ignored', async (t) => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const good = issuer.key.publicJwk
    const rsa = (changes: Record<string, unknown>) => ({ ...good, ...changes })
    const jwks = {
      keys: [
        good,
        rsa({ kid: 'enc', use: 'enc' }),
        rsa({ kid: 'rs512', alg: 'RS512' }),
        rsa({ kid: 'ps256', alg: 'PS256' }),
        rsa({ kid: 'encrypt-only', key_ops: ['encrypt'] }),
        rsa({ kid: undefined }),
        rsa({ kid: '' }),
        rsa({ kid: 42 }),
        rsa({ kid: 'no-n', n: undefined }),
        rsa({ kid: 'bad-n', n: 42 }),
        rsa({ kid: 'garbage-n', n: '!!!' }),
        rsa({ kid: 'padded-n', n: `${String(good.n)}==` }),
        rsa({ kid: 'tiny-n', n: 'AQAB' }),
        rsa({ kid: 'exponent-1', e: 'AQ' }),
        rsa({ kid: 'exponent-even', e: 'AQAA' }),
        { ...createPublicKey(short.privateKey).export({ format: 'jwk' }), kid: 'rsa-1024', use: 'sig', alg: 'RS256' },
        { ...createPublicKey(ec.privateKey).export({ format: 'jwk' }), kid: 'ec', use: 'sig', alg: 'ES256' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
        null, 5, 'key', []
      ]
    }
    const parsed = parseKeySet(jwks)
    t.same([...parsed.keys()], [issuer.key.kid], 'only the RS256 signing key is kept')
    t.equal(parsed.get(issuer.key.kid), pemOf(issuer.key))
    t.same([...parseKeySet({ keys: [rsa({ kid: 'verify', key_ops: ['verify'], use: 'sig', alg: 'RS256' })] }).keys()], ['verify'], 'use sig, alg RS256, key_ops verify is kept')
    t.same([...parseKeySet({ keys: [rsa({ kid: 'bare', use: undefined, alg: undefined })] }).keys()], ['bare'], 'so is a key with no use and no alg')
    for (const notAKeySet of [null, undefined, 5, 'keys', [], {}, { keys: {} }, { keys: 'x' }]) {
      t.equal(parseKeySet(notAKeySet).size, 0, `${JSON.stringify(notAKeySet)} has no keys`)
    }

    const server = await serve(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
    })
    const { keySet, events } = clockedKeySet(server.url, { cooldownMs: 60_000 })
    t.equal(await keySet.getKey(issuer.key.kid), pemOf(issuer.key))
    t.same(events[0], { url: server.url, ok: true, keys: 1 })
    for (const kid of ['enc', 'rs512', 'ps256', 'encrypt-only', 'no-n', 'garbage-n', 'tiny-n', 'exponent-1', 'rsa-1024', 'ec', 'hmac']) {
      await rejectsWith(t, keySet.getKey(kid), UnknownKeyError, `${kid} is unknown`)
    }
    t.equal(server.hits(), 1)

    const onlyIgnored = await serve(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks.keys.slice(1) }))
    })
    const empty = clockedKeySet(onlyIgnored.url)
    await rejectsWith(t, empty.keySet.getKey('enc'), KeySetUnavailableError, 'a key set with nothing usable counts as a failed fetch')
  })
})

t.test('the key set through the app', async (t) => {
  const mallorysKey = createPrivateKey(mallory.privateKeyPem)
  const keyBPrivate = createPrivateKey(keyB.privateKeyPem)

  t.test('200 concurrent requests with a new kid cause exactly one fetch; rotation is followed', async (t) => {
    const { app, issuer } = await buildApp(t, { env: { JWKS_COOLDOWN_S: '0' } })
    const issuerKey = createPrivateKey(issuer.key.privateKeyPem)
    const tokenA = tokenSignedBy(issuer, issuerKey, issuer.key.kid)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(tokenA) })).statusCode, 200)
    t.equal(issuer.fetches, 1)

    issuer.keys = [issuer.key, keyB]
    const tokenB = tokenSignedBy(issuer, keyBPrivate, keyB.kid)
    const responses = await Promise.all(Array.from({ length: 200 }, () => app.inject({ url: '/api/images', headers: bearer(tokenB) })))
    t.same([...new Set(responses.map((r) => r.statusCode))], [200], 'all 200 requests succeed')
    t.equal(issuer.fetches, 2, 'after exactly one more fetch')

    issuer.keys = [keyB]
    t.equal((await app.inject({ url: '/api/images', headers: bearer(tokenB) })).statusCode, 200, 'the new key works')
    const refetch = await app.inject({ url: '/api/images', headers: bearer(tokenSignedBy(issuer, keyBPrivate, 'key-c')) })
    t.equal(refetch.json().message, 'Token signing key is unknown', 'an unknown kid triggers a refetch (cooldown 0)…')
    t.equal(issuer.fetches, 3, '…which drops the retired key')
    const retired = await app.inject({ url: '/api/images', headers: bearer(tokenA) })
    t.equal(retired.statusCode, 401, 'a token verified (and cached) under the retired key is refused')
    t.equal(retired.json().message, 'Token signing key is unknown')
  })

  t.test('a flood of random unknown kids within the cooldown causes at most one extra fetch', async (t) => {
    const { app, issuer } = await buildApp(t, { env: { JWKS_COOLDOWN_S: '30' } })
    const good = tokenSignedBy(issuer, createPrivateKey(issuer.key.privateKeyPem), issuer.key.kid)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(good) })).statusCode, 200)
    const responses = await Promise.all(Array.from({ length: 200 }, () =>
      app.inject({ url: '/api/images', headers: bearer(tokenSignedBy(issuer, mallorysKey, randomUUID())) })))
    t.ok(responses.every((r) => r.statusCode === 401 && r.json().message === 'Token signing key is unknown'), 'every one is 401 unknown key')
    t.ok(issuer.fetches <= 2, `${issuer.fetches} fetches in all`)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(good) })).statusCode, 200, 'the real key still works')
  })

  t.test('provider outages after the cache TTL: cached keys work, uncached kids get 503 with Retry-After', async (t) => {
    const { app, issuer } = await buildApp(t, { env: { JWKS_CACHE_TTL_S: '1', JWKS_COOLDOWN_S: '0', JWKS_TIMEOUT_MS: '300' } })
    const good = tokenSignedBy(issuer, createPrivateKey(issuer.key.privateKeyPem), issuer.key.kid)
    const tokenB = tokenSignedBy(issuer, keyBPrivate, keyB.kid)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(good) })).statusCode, 200)
    await sleep(1_100)
    issuer.keys = [issuer.key, keyB]

    for (const mode of OUTAGES) {
      issuer.mode = mode
      const fetchesBefore = issuer.fetches
      t.equal((await app.inject({ url: '/api/images', headers: bearer(good) })).statusCode, 200, `${mode}: the cached key still verifies`)
      const response = await app.inject({ url: '/api/images', headers: bearer(tokenB) })
      t.equal(response.statusCode, 503, `${mode}: an uncached kid is 503`)
      t.same(response.json(), {
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'auth_unavailable',
        message: 'Token keys cannot be fetched from the identity provider; try again later'
      }, `${mode}: the contract body`)
      t.equal(response.headers['retry-after'], '1', `${mode}: Retry-After`)
      t.equal(response.headers['www-authenticate'], undefined, `${mode}: no challenge, the token is not at fault`)
      t.ok(issuer.fetches > fetchesBefore, `${mode}: the provider was asked`)
    }

    issuer.mode = 'ok'
    t.equal((await app.inject({ url: '/api/images', headers: bearer(tokenB) })).statusCode, 200, 'once the provider is back, the same token works')
  })
})
