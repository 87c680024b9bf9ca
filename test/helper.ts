import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Test } from 'tap'
import serviceApp from '../src/app.js'
import { serverOptions } from '../src/server-options.js'
import { createIssuer, type TestIssuer } from './issuer.js'

export { AUDIENCE, makeSigningKey, type KeySetMode, type SigningKey, type TestIssuer } from './issuer.js'

export async function startIssuer (t: Test): Promise<TestIssuer> {
  const issuer = await createIssuer()
  t.after(() => issuer.close())
  return issuer
}

export interface BuildOptions {
  env?: Record<string, string>
  issuer?: TestIssuer
}

/** Builds the app for one test against a local issuer, with its own data folder; closes it in teardown. */
export async function buildApp (t: Test, options: BuildOptions = {}): Promise<{ app: FastifyInstance, issuer: TestIssuer, dataDir: string }> {
  const issuer = options.issuer ?? await startIssuer(t)
  const dataDir = t.testdir()
  const app = Fastify(serverOptions({ NODE_ENV: 'test', LOG_LEVEL: options.env?.LOG_LEVEL ?? 'silent' }))
  await app.register(fp(serviceApp), { env: testEnv(dataDir, issuer, options.env) })
  t.after(() => app.close())
  await app.ready()
  return { app, issuer, dataDir }
}

export function testEnv (dataDir: string, issuer: TestIssuer, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${join(dataDir, 'test.db')}`,
    UPLOAD_DIR: join(dataDir, 'uploads'),
    AUTH0_DOMAIN: issuer.issuer,
    AUTH0_AUDIENCE: issuer.audience,
    ...overrides
  }
}

/** Listens on an ephemeral loopback port, for tests that need a real socket. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
