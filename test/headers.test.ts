import t from 'tap'
import { buildApp, bearer } from './helper.js'

t.test('CORS: listed origins get credentials; preflight answers 204; other origins get nothing', async (t) => {
  const { app, issuer } = await buildApp(t, { env: { CORS_ORIGIN: 'https://app.example.com, https://admin.example.com' } })
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/upload',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' }
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com')
  t.equal(preflight.headers['access-control-allow-credentials'], 'true')
  t.match(preflight.headers['access-control-allow-headers'], /authorization/)

  const listed = await app.inject({ url: '/api/images', headers: { origin: 'https://admin.example.com', ...bearer(issuer.sign()) } })
  t.equal(listed.statusCode, 200)
  t.equal(listed.headers['access-control-allow-origin'], 'https://admin.example.com')
  t.match(listed.headers['access-control-expose-headers'], /link/)

  const stranger = await app.inject({ url: '/api/images', headers: { origin: 'https://evil.example.com', ...bearer(issuer.sign()) } })
  t.notOk(stranger.headers['access-control-allow-origin'])
})

t.test('no CORS_ORIGIN: no cross-origin access at all', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ url: '/', headers: { origin: 'https://app.example.com' } })
  t.notOk(response.headers['access-control-allow-origin'])
})

t.test('API answers carry the API\'s security headers; the docs page carries helmet\'s page set and a CSP that lets it run', async (t) => {
  const { app, issuer } = await buildApp(t)
  const api = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY'
  }
  for (const [what, response] of [
    ['GET /', await app.inject({ url: '/' })],
    ['a listing', await app.inject({ url: '/api/images', headers: bearer(issuer.sign()) })],
    ['a refusal', await app.inject({ url: '/api/images' })],
    ['an unknown route', await app.inject({ url: '/docsx' })]
  ] as const) {
    t.match(response.headers, api, what)
    t.notOk(response.headers['cross-origin-opener-policy'], `${what}: no page-only headers`)
  }
  for (const url of ['/docs', '/docs/', '/docs/json']) {
    const docs = await app.inject({ url })
    t.ok(docs.statusCode < 400, `${url} answers`)
    t.match(docs.headers, { 'cross-origin-opener-policy': 'same-origin', 'x-frame-options': 'SAMEORIGIN', 'x-content-type-options': 'nosniff' }, `${url}: helmet's page set`)
  }
  const page = await app.inject({ url: '/docs/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-security-policy'], /script-src/)
})

t.test('the docs page never asks the browser to upgrade to https or to call an outside validator', async (t) => {
  const { app } = await buildApp(t)
  const docs = await app.inject({ url: '/docs/' })
  t.notMatch(docs.headers['content-security-policy'], /upgrade-insecure-requests|validator\.swagger\.io/)
})
