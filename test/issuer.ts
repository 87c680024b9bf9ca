import { generateKeyPairSync, createPublicKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner, type JwtHeader } from 'fast-jwt'

export const AUDIENCE = 'https://cat-data-api.test'

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  privateKeyPem: string
  publicJwk: JsonWebKey
}

export function makeSigningKey (kid: string = randomUUID()): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicJwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }
  return { kid, privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicJwk }
}

/** How the test issuer's key-set endpoint behaves; tests switch it to simulate outages and garbage. */
export type KeySetMode = 'ok' | 'refuse' | 'hang' | 'error500' | 'html' | 'empty-object' | 'no-keys'

/**
 * A local identity provider: serves a JWKS at `<issuer>.well-known/jwks.json`, counts fetches,
 * rotates keys and misbehaves on demand. Tokens are signed locally; nothing is fetched from outside.
 * Shared by the tests and the benchmarks.
 */
export interface TestIssuer {
  issuer: string
  jwksUri: string
  audience: string
  key: SigningKey
  keys: SigningKey[]
  mode: KeySetMode
  fetches: number
  sign: (claims?: Record<string, unknown>, options?: { key?: SigningKey, kid?: string, expiresInS?: number, header?: Record<string, unknown> }) => string
}

let sharedKey: SigningKey | undefined

/** Starts the issuer on a loopback port; tests use startIssuer from helper.ts, which closes it in teardown. */
export async function createIssuer (): Promise<TestIssuer & { close: () => Promise<void> }> {
  sharedKey ??= makeSigningKey()
  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}/`
  const state: TestIssuer = {
    issuer,
    jwksUri: `${issuer}.well-known/jwks.json`,
    audience: AUDIENCE,
    key: sharedKey,
    keys: [sharedKey],
    mode: 'ok',
    fetches: 0,
    sign (claims = {}, options = {}) {
      const key = options.key ?? state.key
      const sign = createSigner({
        algorithm: 'RS256',
        key: key.privateKeyPem,
        kid: options.kid ?? key.kid,
        expiresIn: (options.expiresInS ?? 3600) * 1000,
        ...(options.header === undefined ? {} : { header: options.header as unknown as JwtHeader })
      })
      return sign({ iss: issuer, aud: AUDIENCE, sub: 'auth0|alice', ...claims })
    }
  }
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return Object.assign(state, { close })

  function handle (request: IncomingMessage, response: ServerResponse) {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end()
      return
    }
    state.fetches++
    switch (state.mode) {
      case 'refuse': request.socket.destroy(); return
      case 'hang': return
      case 'error500': response.writeHead(500).end('oops'); return
      case 'html': response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'); return
      case 'empty-object': response.writeHead(200, { 'content-type': 'application/json' }).end('{}'); return
      case 'no-keys': response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'); return
      default:
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }))
    }
  }
}

