import t from 'tap'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import { Value } from 'typebox/value'
import { envSchema, resolveAuthSettings, type Env } from '../src/config.js'
import serviceApp from '../src/app.js'

const defaults = Value.Default(envSchema, {}) as Env
const env = (overrides: Partial<Env>): Env => ({ ...defaults, ...overrides })

t.test('AUTH0_DOMAIN in any common spelling means the https issuer with a trailing slash', async (t) => {
  for (const domain of ['tenant.eu.auth0.com', 'https://tenant.eu.auth0.com', 'https://tenant.eu.auth0.com/']) {
    t.same(resolveAuthSettings(env({ AUTH0_DOMAIN: domain, AUTH0_AUDIENCE: 'api' })), {
      mode: 'auth0',
      issuer: 'https://tenant.eu.auth0.com/',
      audience: 'api',
      jwksUri: 'https://tenant.eu.auth0.com/.well-known/jwks.json'
    }, domain)
  }
})

t.test('AUTH0_ISSUER and AUTH0_JWKS_URI override what AUTH0_DOMAIN implies', async (t) => {
  t.match(resolveAuthSettings(env({
    AUTH0_DOMAIN: 'tenant.auth0.com',
    AUTH0_AUDIENCE: 'api',
    AUTH0_ISSUER: 'https://login.example.com',
    AUTH0_JWKS_URI: 'https://keys.example.com/jwks'
  })), { issuer: 'https://login.example.com/', jwksUri: 'https://keys.example.com/jwks' })
})

t.test('http:// is refused unless the host is loopback, and the message names the variable', async (t) => {
  t.throws(() => resolveAuthSettings(env({ AUTH0_DOMAIN: 'http://tenant.auth0.com', AUTH0_AUDIENCE: 'api' })), /^AUTH0_DOMAIN: http:\/\/ is only allowed for loopback/)
  t.throws(() => resolveAuthSettings(env({ AUTH0_DOMAIN: 'tenant.auth0.com', AUTH0_AUDIENCE: 'api', AUTH0_JWKS_URI: 'http://10.0.0.1/jwks' })), /^AUTH0_JWKS_URI:/)
  t.throws(() => resolveAuthSettings(env({ AUTH0_DOMAIN: 'tenant.auth0.com', AUTH0_AUDIENCE: 'api', AUTH0_ISSUER: 'ftp://x' })), /^AUTH0_ISSUER:/)
  for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000']) {
    t.match(resolveAuthSettings(env({ AUTH0_DOMAIN: `http://${host}`, AUTH0_AUDIENCE: 'api' })), { issuer: `http://${host}/` }, host)
  }
})

t.test('a real issuer needs an audience; production needs a real issuer', async (t) => {
  t.throws(() => resolveAuthSettings(env({ AUTH0_DOMAIN: 'tenant.auth0.com' })), /^AUTH0_AUDIENCE: is required/)
  t.throws(() => resolveAuthSettings(env({ NODE_ENV: 'production' })), /^AUTH0_DOMAIN: is required when NODE_ENV=production/)
  t.match(resolveAuthSettings(env({})), { mode: 'dev' })
})

t.test('a bad value stops start-up with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ MAX_UPLOAD_BYTES: '-5' }, /MAX_UPLOAD_BYTES/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL/],
    [{ AUTH_REQUIRE_SCOPES: 'maybe' }, /AUTH_REQUIRE_SCOPES/],
    [{ NODE_ENV: 'production' }, /AUTH0_DOMAIN/]
  ]
  for (const [overrides, expected] of cases) {
    const app = Fastify({ logger: false })
    await t.rejects(async () => {
      await app.register(fp(serviceApp), { env: { DATA_DIR: t.testdir(), ...overrides } })
      await app.ready()
    }, expected, JSON.stringify(overrides))
    await app.close()
  }
})

t.test('.env.example, the README table and the env schema name the same variables with the same defaults', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const schemaDefaults = Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, String(value)]))

  const example = Object.fromEntries((await readFile('.env.example', 'utf8')).split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
  t.same(example, schemaDefaults, '.env.example')

  const readme = Object.fromEntries([...(await readFile('README.md', 'utf8')).matchAll(/^\| `([A-Z0-9_]+)` \| (?:`([^`]*)`|\(empty\)) \|/gm)]
    .map(([, name, value]) => [name, value ?? '']))
  t.same(readme, schemaDefaults, 'README configuration table')
})
