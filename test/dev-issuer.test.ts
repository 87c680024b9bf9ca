import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import serviceApp from '../src/app.js'
import type { Test } from 'tap'
import { listen } from './helper.js'

const run = promisify(execFile)

/** An app with no AUTH0_DOMAIN, so the development issuer is active; its log lines are kept. */
async function devApp (t: Test, dataDir: string) {
  const lines: Array<{ msg: string }> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()))
      callback()
    }
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(fp(serviceApp), { env: { NODE_ENV: 'development', DATA_DIR: dataDir, DATABASE_URL: `file:${dataDir}/db.sqlite`, UPLOAD_DIR: `${dataDir}/uploads` } })
  t.after(() => app.close())
  const base = await listen(app)
  return { app, base, lines }
}

t.test('with no AUTH0_DOMAIN, the logged token works through the same key-set path', async (t) => {
  const dataDir = t.testdir()
  const { app, base, lines } = await devApp(t, dataDir)
  const hint = lines.find((line) => line.msg.startsWith('try: curl'))
  t.ok(hint, 'start-up logs a ready-to-paste curl command')
  t.ok(lines.some((line) => line.msg === `docs: ${base}/docs`), 'and the docs URL')
  const token = /Bearer ([\w.-]+)/.exec(hint?.msg ?? '')?.[1] ?? ''

  const keys = await fetch(`${base}/dev/jwks.json`).then((r) => r.json()) as { keys: Array<{ kid: string, kty: string, d?: string }> }
  t.equal(keys.keys.length, 1)
  t.equal(keys.keys[0]?.kty, 'RSA')
  t.notOk(keys.keys[0]?.d, 'the private part is never served')

  const listed = await fetch(`${base}/api/images`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(listed.status, 200)
  t.same(await listed.json(), { images: [], nextCursor: null })
  t.equal(app.devIssuer?.kid, keys.keys[0]?.kid)
})

t.test('the key survives restarts, and npm run token prints a token for it', async (t) => {
  const dataDir = t.testdir()
  const first = await devApp(t, dataDir)
  const kid = first.app.devIssuer?.kid
  await first.app.close()

  const { app, base } = await devApp(t, dataDir)
  t.equal(app.devIssuer?.kid, kid, 'same key after a restart')

  const { stdout } = await run(process.execPath, ['--import=tsx', 'scripts/token.ts', '--sub', 'auth0|carol', '--scope', 'read:images'], {
    env: { ...process.env, DATA_DIR: dataDir, AUTH0_DOMAIN: '', AUTH0_AUDIENCE: '' }
  })
  const token = stdout.trim()
  const [, payload = ''] = token.split('.')
  t.match(JSON.parse(Buffer.from(payload, 'base64url').toString()), { sub: 'auth0|carol', scope: 'read:images' })
  const listed = await fetch(`${base}/api/images`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(listed.status, 200)
})

t.test('the development issuer is never active with a real issuer configured', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(fp(serviceApp), {
    env: { DATA_DIR: t.testdir(), AUTH0_DOMAIN: 'https://tenant.example.com', AUTH0_AUDIENCE: 'api' }
  })
  t.after(() => app.close())
  await app.ready()
  t.equal(app.devIssuer, null)
  t.equal((await app.inject({ url: '/dev/jwks.json' })).statusCode, 404)
})
