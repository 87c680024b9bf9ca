import t from 'tap'
import { constants, createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AUDIENCE, bearer, buildApp, makeSigningKey } from '../helper.js'

/**
 * Forged and hostile tokens, one row each, all built here by hand. Every one must be turned away with the
 * contract's 4-key JSON body: never a 2xx, never a 5xx, never a stack or an internal message.
 */

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const nowS = () => Math.floor(Date.now() / 1000)

type Signer = (input: string) => string
const rs = (hash: string, key: KeyObject): Signer => (input) => cryptoSign(hash, Buffer.from(input), key).toString('base64url')
const ps256 = (key: KeyObject): Signer => (input) => cryptoSign('sha256', Buffer.from(input), {
  key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32
}).toString('base64url')
const hs256 = (secret: string): Signer => (input) => createHmac('sha256', secret).update(input).digest('base64url')
const unsigned: Signer = () => ''

/** `header.payload.signature` from raw JSON text or values, signed by `signer`. */
function jws (header: unknown, payload: unknown, signer: Signer): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${signer(input)}`
}

const MESSAGES = {
  malformed: 'Token is malformed',
  alg: 'Token algorithm is not accepted',
  kid: 'Token has no usable key id',
  unknownKid: 'Token signing key is unknown',
  signature: 'Token signature is invalid',
  claimType: 'Token claims have the wrong type',
  crit: 'Token has an unsupported critical header',
  tooLarge: 'Token is too large',
  badHeader: 'Authorization header must be "Bearer <token>"'
} as const

interface Row {
  name: string
  /** The whole Authorization header value, or a token to send as `Bearer <token>`. */
  token?: string
  authorization?: string
  status?: 400 | 401
  code?: string
  message: string
}

t.test('forged tokens are all turned away with 401 (or 400) and the contract body', async (t) => {
  // A server the attacker controls: a token may point at it, the API must never go there.
  let attackerHits = 0
  const attacker = createServer((_request, response) => {
    attackerHits++
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}')
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    attacker.closeAllConnections()
    attacker.close(() => resolve())
  }))
  const evil = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`

  const { app, issuer } = await buildApp(t)
  const real = issuer.key
  const realKey = createPrivateKey(real.privateKeyPem)
  const mallory = makeSigningKey('mallory')
  const malloryKey = createPrivateKey(mallory.privateKeyPem)
  const realPublicPem = createPublicKey(realKey).export({ type: 'spki', format: 'pem' }).toString()
  const realPublicJwkText = JSON.stringify(real.publicJwk)

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: issuer.issuer, aud: AUDIENCE, sub: 'auth0|alice', iat: nowS(), exp: nowS() + 3600, scope: 'read:images write:images delete:images', ...extra
  })
  const rsa = rs('sha256', realKey)
  const forged = rs('sha256', malloryKey)
  const good = jws({ alg: 'RS256', kid: real.kid }, claims(), rsa)
  const [goodHeader, goodPayload, goodSignature] = good.split('.') as [string, string, string]

  const rows: Row[] = []
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    rows.push({ name: `alg ${alg}, no signature`, token: jws({ alg, kid: real.kid }, claims(), unsigned), message: MESSAGES.alg })
    rows.push({ name: `alg ${alg}, no signature, no kid`, token: jws({ alg }, claims(), unsigned), message: MESSAGES.alg })
    rows.push({ name: `alg ${alg} with a real RS256 signature`, token: jws({ alg, kid: real.kid }, claims(), rsa), message: MESSAGES.alg })
    rows.push({ name: `alg ${alg} with the good token's signature`, token: `${b64url({ alg, kid: real.kid })}.${goodPayload}.${goodSignature}`, message: MESSAGES.alg })
  }
  rows.push(
    { name: 'alg missing', token: jws({ kid: real.kid }, claims(), rsa), message: MESSAGES.alg },
    { name: 'alg rs256 (lower case)', token: jws({ alg: 'rs256', kid: real.kid }, claims(), rsa), message: MESSAGES.alg },
    { name: 'alg an array', token: jws({ alg: ['RS256'], kid: real.kid }, claims(), rsa), message: MESSAGES.alg },
    { name: 'duplicate alg, none last', token: `${b64url(`{"alg":"RS256","kid":"${real.kid}","alg":"none"}`)}.${goodPayload}.`, message: MESSAGES.alg },
    { name: 'HS256 keyed with the public key as PEM text', token: jws({ alg: 'HS256', kid: real.kid }, claims(), hs256(realPublicPem)), message: MESSAGES.alg },
    { name: 'HS256 keyed with the public key as JWK JSON text', token: jws({ alg: 'HS256', kid: real.kid }, claims(), hs256(realPublicJwkText)), message: MESSAGES.alg },
    { name: 'HS256 keyed with the kid', token: jws({ alg: 'HS256', kid: real.kid }, claims(), hs256(real.kid)), message: MESSAGES.alg },
    { name: 'RS384 with the real key and kid', token: jws({ alg: 'RS384', kid: real.kid }, claims(), rs('sha384', realKey)), message: MESSAGES.alg },
    { name: 'RS512 with the real key and kid', token: jws({ alg: 'RS512', kid: real.kid }, claims(), rs('sha512', realKey)), message: MESSAGES.alg },
    { name: 'PS256 with the real key and kid', token: jws({ alg: 'PS256', kid: real.kid }, claims(), ps256(realKey)), message: MESSAGES.alg },
    { name: 'ES256 claimed over an RSA signature', token: jws({ alg: 'ES256', kid: real.kid }, claims(), rsa), message: MESSAGES.alg },

    { name: 'kid missing', token: jws({ alg: 'RS256' }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid empty', token: jws({ alg: 'RS256', kid: '' }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid a number', token: jws({ alg: 'RS256', kid: 12345 }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid null', token: jws({ alg: 'RS256', kid: null }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid an object', token: jws({ alg: 'RS256', kid: { toString: real.kid } }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid an array holding the real kid', token: jws({ alg: 'RS256', kid: [real.kid] }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid of 257 characters', token: jws({ alg: 'RS256', kid: 'k'.repeat(257) }, claims(), rsa), message: MESSAGES.kid },
    { name: 'kid of 10 KB', token: jws({ alg: 'RS256', kid: 'k'.repeat(10 * 1024) }, claims(), rsa), message: MESSAGES.tooLarge },
    { name: 'kid path-like ../../etc/passwd', token: jws({ alg: 'RS256', kid: '../../etc/passwd' }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'kid a URL http://evil/', token: jws({ alg: 'RS256', kid: 'http://evil/' }, claims(), forged), message: MESSAGES.unknownKid },
    { name: `kid an attacker URL ${evil}/jwks.json`, token: jws({ alg: 'RS256', kid: `${evil}/jwks.json` }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'kid __proto__', token: jws({ alg: 'RS256', kid: '__proto__' }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'kid constructor', token: jws({ alg: 'RS256', kid: 'constructor' }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'kid with SQL', token: jws({ alg: 'RS256', kid: "' OR 1=1 --" }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'kid with a NUL byte', token: jws({ alg: 'RS256', kid: `${real.kid}\u0000` }, claims(), forged), message: MESSAGES.unknownKid },

    { name: 'jku to an attacker key set, attacker kid', token: jws({ alg: 'RS256', kid: mallory.kid, jku: `${evil}/jwks.json` }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'jku to an attacker key set, real kid', token: jws({ alg: 'RS256', kid: real.kid, jku: `${evil}/jwks.json` }, claims(), forged), message: MESSAGES.signature },
    { name: 'x5u to an attacker certificate, attacker kid', token: jws({ alg: 'RS256', kid: mallory.kid, x5u: `${evil}/cert.pem` }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'x5u to an attacker certificate, real kid', token: jws({ alg: 'RS256', kid: real.kid, x5u: `${evil}/cert.pem` }, claims(), forged), message: MESSAGES.signature },
    { name: 'jwk header embedding the attacker key, attacker kid', token: jws({ alg: 'RS256', kid: mallory.kid, jwk: mallory.publicJwk }, claims(), forged), message: MESSAGES.unknownKid },
    { name: 'jwk header embedding the attacker key, real kid', token: jws({ alg: 'RS256', kid: real.kid, jwk: { ...mallory.publicJwk, kid: real.kid } }, claims(), forged), message: MESSAGES.signature },
    { name: 'jwk header, no kid', token: jws({ alg: 'RS256', jwk: mallory.publicJwk }, claims(), forged), message: MESSAGES.kid },
    { name: 'x5c with an attacker chain, real kid', token: jws({ alg: 'RS256', kid: real.kid, x5c: [Buffer.from('not a real certificate').toString('base64')] }, claims(), forged), message: MESSAGES.signature },
    { name: 'signed by the attacker under the real kid', token: jws({ alg: 'RS256', kid: real.kid }, claims(), forged), message: MESSAGES.signature },
    { name: 'RS256 with the signature cut off', token: `${goodHeader}.${goodPayload}.`, message: MESSAGES.signature },
    { name: 'RS256 with a truncated signature', token: `${goodHeader}.${goodPayload}.${goodSignature.slice(0, 100)}`, message: MESSAGES.signature },
    { name: 'good signature, other payload', token: `${goodHeader}.${b64url(claims({ sub: 'auth0|mallory' }))}.${goodSignature}`, message: MESSAGES.signature },

    { name: 'crit ["exp"] (a registered name), real signature', token: jws({ alg: 'RS256', kid: real.kid, crit: ['exp'] }, claims(), rsa), message: MESSAGES.crit },
    { name: 'crit ["foo"], real signature', token: jws({ alg: 'RS256', kid: real.kid, crit: ['foo'], foo: true }, claims(), rsa), message: MESSAGES.crit },
    { name: 'crit ["b64"] (unencoded payload), real signature', token: jws({ alg: 'RS256', kid: real.kid, crit: ['b64'], b64: false }, claims(), rsa), message: MESSAGES.crit },
    { name: 'crit not an array, real signature', token: jws({ alg: 'RS256', kid: real.kid, crit: 'foo' }, claims(), rsa), message: MESSAGES.crit },

    { name: 'two segments', token: `${goodHeader}.${goodPayload}`, message: MESSAGES.malformed },
    { name: 'four segments', token: `${good}.${goodSignature}`, message: MESSAGES.malformed },
    { name: 'five segments (JWE-shaped)', token: `${goodHeader}.${goodPayload}.${goodPayload}.${goodPayload}.${goodSignature}`, message: MESSAGES.malformed },
    { name: 'header not base64url (~)', token: `${goodHeader}~~.${goodPayload}.${goodSignature}`, message: MESSAGES.malformed },
    { name: 'header base64url of non-JSON', token: `${b64url('{"alg":"RS256"')}.${goodPayload}.${goodSignature}`, message: MESSAGES.malformed },
    { name: 'payload base64url of non-JSON', token: `${goodHeader}.${b64url('\u00ff\u00fe garbage')}.${goodSignature}`, message: MESSAGES.malformed },
    { name: 'header JSON null', token: jws(null, claims(), rsa), message: MESSAGES.malformed },
    { name: 'header JSON string', token: jws('"RS256"', claims(), rsa), message: MESSAGES.malformed },
    { name: 'payload an array, real signature', token: jws({ alg: 'RS256', kid: real.kid }, [claims()], rsa), message: MESSAGES.malformed },
    { name: 'payload a number, real signature', token: jws({ alg: 'RS256', kid: real.kid }, '42', rsa), message: MESSAGES.malformed },
    { name: 'payload null, real signature', token: jws({ alg: 'RS256', kid: real.kid }, 'null', rsa), message: MESSAGES.malformed },
    { name: 'payload true, real signature', token: jws({ alg: 'RS256', kid: real.kid }, 'true', rsa), message: MESSAGES.malformed },
    { name: 'deeply nested payload', token: `${goodHeader}.${b64url('['.repeat(1500) + ']'.repeat(1500))}.${goodSignature}`, message: MESSAGES.malformed },

    { name: 'exp as a string, real signature', token: jws({ alg: 'RS256', kid: real.kid }, claims({ exp: String(nowS() + 3600) }), rsa), message: MESSAGES.claimType },
    { name: 'nbf as a string, real signature', token: jws({ alg: 'RS256', kid: real.kid }, claims({ nbf: String(nowS() - 60) }), rsa), message: MESSAGES.claimType },
    { name: 'exp as an object, real signature', token: jws({ alg: 'RS256', kid: real.kid }, claims({ exp: { valueOf: 1 } }), rsa), message: MESSAGES.claimType },
    { name: 'sub as an object, real signature', token: jws({ alg: 'RS256', kid: real.kid }, claims({ sub: { $ne: null } }), rsa), message: MESSAGES.claimType },

    { name: 'a 100 KB token', token: jws({ alg: 'RS256', kid: real.kid }, claims({ padding: 'x'.repeat(100 * 1024) }), rsa), message: MESSAGES.tooLarge },
    { name: 'a 100 KB garbage token', token: 'A'.repeat(100 * 1024), message: MESSAGES.tooLarge },

    { name: 'characters no bearer token has', authorization: `Bearer ${goodHeader}.${goodPayload}.%%%`, status: 400, code: 'invalid_request', message: MESSAGES.badHeader },
    { name: 'a token with a space inside', authorization: `Bearer ${goodHeader}. ${goodPayload}.${goodSignature}`, status: 400, code: 'invalid_request', message: MESSAGES.badHeader },
    { name: 'a token with a newline-like escape', authorization: `Bearer ${goodHeader}.${goodPayload}\\n.${goodSignature}`, status: 400, code: 'invalid_request', message: MESSAGES.badHeader },
    { name: 'two Bearer tokens, comma separated', authorization: `Bearer ${good}, Bearer ${good}`, status: 400, code: 'invalid_request', message: MESSAGES.badHeader }
  )

  const sanity = await app.inject({ url: '/api/images', headers: bearer(good) })
  t.equal(sanity.statusCode, 200, 'the unforged token works, so the rows below fail for the right reason')

  for (const row of rows) {
    t.test(row.name, async (t) => {
      const status = row.status ?? 401
      const code = row.code ?? 'invalid_token'
      // Twice: the second answer may come from the verified-token cache and must be the same.
      for (const attempt of ['first', 'again']) {
        const response = await app.inject({ url: '/api/images', headers: { authorization: row.authorization ?? `Bearer ${row.token}` } })
        t.equal(response.statusCode, status, `${attempt}: status`)
        const body = response.json() as Record<string, unknown>
        t.same(body, { statusCode: status, error: status === 400 ? 'Bad Request' : 'Unauthorized', code, message: row.message }, `${attempt}: the body`)
        t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], `${attempt}: exactly 4 keys`)
        t.notMatch(response.body, /stack|\bat \w|node_modules|\.ts\b|\.js\b|TokenError|FAST_JWT|FST_/, `${attempt}: nothing internal`)
        t.match(response.headers['www-authenticate'], new RegExp(`^Bearer realm="cat-data-api", error="${code}", error_description="[^"\\\\]*"$`), `${attempt}: an RFC 6750 challenge`)
      }
    })
  }

  t.test('nothing was fetched from anywhere a token pointed at', async (t) => {
    t.equal(attackerHits, 0, 'the attacker server was never asked')
    t.ok(issuer.fetches <= 2, `the real key set was fetched ${issuer.fetches} time(s) for ${rows.length} rows, within the cooldown`)
  })
})
