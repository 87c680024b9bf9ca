import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import serviceApp from '../src/app.js'
import { serverOptions } from '../src/server-options.js'
import { bearer, startIssuer, testEnv } from './helper.js'

t.test('logs never carry a token, a cookie or an Authorization header', async (t) => {
  const issuer = await startIssuer(t)
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(chunk.toString()); callback() } })
  const options = serverOptions({ NODE_ENV: 'production', LOG_LEVEL: 'trace' })
  const app = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await app.register(fp(serviceApp), { env: testEnv(t.testdir(), issuer) })
  t.after(() => app.close())

  const token = issuer.sign({ sub: 'auth0|logged' })
  const expired = issuer.sign({}, { expiresInS: -60 })
  await app.inject({ url: '/api/images', headers: { ...bearer(token), cookie: 'session=very-secret-cookie' } })
  await app.inject({ url: `/api/images?access_token=${token}`, headers: bearer(expired) })
  await app.inject({ url: '/api/images', headers: { authorization: 'Basic dXNlcjpodW50ZXIy' } })

  const text = lines.join('')
  t.ok(lines.length > 0, 'something was logged')
  for (const secret of [token, expired, token.split('.')[2] ?? '', 'very-secret-cookie', 'dXNlcjpodW50ZXIy']) {
    t.notOk(text.includes(secret), `no log line contains ${secret.slice(0, 12)}…`)
  }
  t.match(text, /access_token=\[redacted\]/, 'token-ish query parameters are redacted in logged URLs')
  const completed = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request completed' && line.res?.sub !== undefined)
  t.equal(completed?.res.sub, 'auth0|logged', 'the token\'s sub is logged with the request')
})

t.test('a sane X-Request-Id is used and echoed; anything else is replaced', async (t) => {
  const issuer = await startIssuer(t)
  const app = Fastify(serverOptions({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }))
  await app.register(fp(serviceApp), { env: testEnv(t.testdir(), issuer) })
  t.after(() => app.close())

  const given = await app.inject({ url: '/', headers: { 'x-request-id': 'client-abc.123' } })
  t.equal(given.headers['x-request-id'], 'client-abc.123')
  const odd = await app.inject({ url: '/', headers: { 'x-request-id': 'no spaces <script>' } })
  t.match(odd.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const none = await app.inject({ url: '/nope' })
  t.match(none.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'errors carry one too')
})
