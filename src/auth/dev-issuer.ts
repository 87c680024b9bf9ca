import { generateKeyPairSync, createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import { DEV_ISSUER } from '../config.js'

/** Scopes a development token carries unless told otherwise. */
export const ALL_SCOPES = ['read:images', 'write:images', 'delete:images'] as const

export interface DevKey {
  kid: string
  privateKeyPem: string
  publicJwk: JsonWebKey
}

export const devKeyPath = (dataDir: string) => join(dataDir, 'dev-issuer-key.json')

/** The development issuer's RSA key, created on first use and kept so tokens survive restarts. */
export async function loadOrCreateDevKey (dataDir: string): Promise<DevKey> {
  const path = devKeyPath(dataDir)
  try {
    return toDevKey(JSON.parse(await readFile(path, 'utf8')))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const stored = { kid: randomUUID(), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
  await mkdir(dataDir, { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(stored), { mode: 0o600 })
  await rename(temporary, path)
  return toDevKey(stored)
}

function toDevKey (stored: { kid: string, privateKeyPem: string }): DevKey {
  const publicJwk = createPublicKey(stored.privateKeyPem).export({ format: 'jwk' })
  return { ...stored, publicJwk: { ...publicJwk, kid: stored.kid, use: 'sig', alg: 'RS256' } }
}

export interface DevTokenOptions {
  audience: string
  sub?: string
  scopes?: readonly string[]
  expiresInS?: number
}

export function mintDevToken (key: DevKey, options: DevTokenOptions): string {
  const sign = createSigner({
    algorithm: 'RS256',
    key: key.privateKeyPem,
    kid: key.kid,
    iss: DEV_ISSUER,
    aud: options.audience,
    sub: options.sub ?? 'dev|local-user',
    expiresIn: (options.expiresInS ?? 3600) * 1000
  })
  return sign({ scope: (options.scopes ?? ALL_SCOPES).join(' ') })
}
