import t from 'tap'
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { AUDIENCE, bearer, buildApp, startIssuer, type TestIssuer } from '../helper.js'

/**
 * The verified-token cache (TOKEN_CACHE_SIZE) may only ever save work: a good token keeps verifying,
 * a token that was turned away for its time is accepted once its time comes, and a cached success
 * does not outlive the token's exp.
 */

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const nowS = () => Math.floor(Date.now() / 1000)

function token (issuer: TestIssuer, key: KeyObject, claims: Record<string, unknown>): string {
  const input = `${b64url({ alg: 'RS256', kid: issuer.key.kid })}.${b64url({ iss: issuer.issuer, aud: AUDIENCE, sub: 'auth0|alice', iat: nowS(), exp: nowS() + 3600, ...claims })}`
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`
}

/** Waits until the wall clock reaches `epochMs`. */
const until = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()))

t.test('the verified-token cache', async (t) => {
  const issuer = await startIssuer(t)
  const key = createPrivateKey(issuer.key.privateKeyPem)

  for (const size of ['100', '0']) {
    t.test(`TOKEN_CACHE_SIZE=${size}: the same good token verifies every time`, async (t) => {
      const { app } = await buildApp(t, { issuer, env: { TOKEN_CACHE_SIZE: size } })
      const good = token(issuer, key, {})
      for (let i = 0; i < 20; i++) {
        const response = await app.inject({ url: '/api/images', headers: bearer(good) })
        if (response.statusCode !== 200) t.fail(`attempt ${i}: ${response.statusCode} ${response.body}`)
      }
      const concurrent = await Promise.all(Array.from({ length: 50 }, () => app.inject({ url: '/api/images', headers: bearer(good) })))
      t.ok(concurrent.every((r) => r.statusCode === 200), '50 concurrent requests with it succeed')
      const other = await app.inject({ url: '/api/images', headers: bearer(token(issuer, key, { exp: nowS() - 3600 })) })
      t.equal(other.json().message, 'Token has expired', 'and the cache does not leak one token\'s result to another')
    })
  }

  t.test('a remembered token is answered in every header form as it is with no cache, well-formed or not', async (t) => {
    const cached = (await buildApp(t, { issuer })).app
    const uncached = (await buildApp(t, { issuer, env: { TOKEN_CACHE_SIZE: '0' } })).app
    const answer = async (app: typeof cached, authorization: string) => {
      const response = await app.inject({ url: '/api/images', headers: { authorization } })
      return { status: response.statusCode, message: response.statusCode === 200 ? 'ok' : response.json().message as string }
    }
    const forms = (jwt: string) => [`Bearer ${jwt}`, `bearer ${jwt}`, `Bearer   ${jwt}`, `Bearer ${jwt}  `, `Bearer ${jwt} extra`, `Bearer ${jwt}.x`, `Bearer${jwt}`]
    for (const [what, jwt, status] of [['a verified token', token(issuer, key, {}), 200], ['an expired token', token(issuer, key, { exp: nowS() - 3600 }), 401]] as const) {
      await answer(cached, `Bearer ${jwt}`) // remembered from now on, as it stands
      for (const form of forms(jwt)) t.same(await answer(cached, form), await answer(uncached, form), `${what}: ${form.replace(jwt, '<jwt>')}`)
      t.equal((await answer(cached, `Bearer   ${jwt}`)).status, status, `${what}: extra spaces are still well-formed`)
    }
  })

  for (const size of ['100', '0']) {
    t.test(`TOKEN_CACHE_SIZE=${size}: an expired token gets the same answer every time, however many others come between`, async (t) => {
      const { app } = await buildApp(t, { issuer, env: { TOKEN_CACHE_SIZE: size } })
      const stale = token(issuer, key, { exp: nowS() - 3600 })
      const first = await app.inject({ url: '/api/images', headers: bearer(stale) })
      t.equal(first.statusCode, 401)
      t.equal(first.json().message, 'Token has expired')
      const refusal = { statusCode: first.statusCode, body: first.body, challenge: first.headers['www-authenticate'] }
      // More distinct expired tokens than are remembered, so that the first one has been let go.
      for (let i = 0; i < 1100; i++) {
        const response = await app.inject({ url: '/api/images', headers: bearer(token(issuer, key, { exp: nowS() - 3600 - i })) })
        if (response.body !== first.body) t.fail(`expired token ${i}: ${response.statusCode} ${response.body}`)
      }
      for (let i = 0; i < 3; i++) {
        const again = await app.inject({ url: '/api/images', headers: bearer(stale) })
        t.same({ statusCode: again.statusCode, body: again.body, challenge: again.headers['www-authenticate'] }, refusal, `again (${i})`)
      }
      t.equal((await app.inject({ url: '/api/images', headers: bearer(token(issuer, key, {})) })).statusCode, 200, 'a good token still verifies')
    })
  }

  t.test('with tolerance 0: a token refused as not yet valid is accepted when its nbf comes; a cached success ends at exp', async (t) => {
    const { app } = await buildApp(t, { issuer, env: { TOKEN_CACHE_SIZE: '100', AUTH_CLOCK_TOLERANCE_S: '0' } })
    const nbf = nowS() + 2
    const early = token(issuer, key, { nbf })
    const shortLived = token(issuer, key, { exp: nbf })

    const before = await app.inject({ url: '/api/images', headers: bearer(early) })
    t.equal(before.statusCode, 401)
    t.equal(before.json().message, 'Token is not yet valid')
    t.equal((await app.inject({ url: '/api/images', headers: bearer(early) })).json().message, 'Token is not yet valid', 'still early')
    t.equal((await app.inject({ url: '/api/images', headers: bearer(shortLived) })).statusCode, 200, 'a short-lived token verifies (and is cached)')

    await until(nbf * 1000 + 50)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(early) })).statusCode, 200, 'the early token is accepted once nbf has come')
    const expired = await app.inject({ url: '/api/images', headers: bearer(shortLived) })
    t.equal(expired.statusCode, 401, 'the short-lived one is refused once exp has passed, cached or not')
    t.equal(expired.json().message, 'Token has expired')
  })

  t.test('with tolerance 1 s: a refusal is not cached for the tolerance either', async (t) => {
    // Failures are never remembered. fast-jwt's cache, which the verified-token cache replaced, kept one for
    // clockTolerance + errorCacheTTL: a token refused 0.4 s before it became acceptable stayed refused for almost another second.
    const { app } = await buildApp(t, { issuer, env: { TOKEN_CACHE_SIZE: '100', AUTH_CLOCK_TOLERANCE_S: '1' } })
    const acceptableAt = Date.now() + 400
    const early = token(issuer, key, { nbf: (acceptableAt + 1000) / 1000 })

    t.equal((await app.inject({ url: '/api/images', headers: bearer(early) })).json().message, 'Token is not yet valid')
    await until(acceptableAt + 100)
    t.equal((await app.inject({ url: '/api/images', headers: bearer(early) })).statusCode, 200, 'accepted as soon as nbf - tolerance has come')
  })
})
