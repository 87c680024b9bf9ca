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

t.test('security headers are on, and the docs page carries a CSP that lets it run', async (t) => {
  const { app } = await buildApp(t)
  const root = await app.inject({ url: '/' })
  t.equal(root.headers['x-content-type-options'], 'nosniff')
  t.match(root.headers['content-security-policy'], /default-src 'self'/)
  t.ok(root.headers['strict-transport-security'])
  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /script-src/)
})

t.test('the docs page never asks the browser to upgrade to https or to call an outside validator', async (t) => {
  const { app } = await buildApp(t)
  const docs = await app.inject({ url: '/docs/' })
  t.notMatch(docs.headers['content-security-policy'], /upgrade-insecure-requests|validator\.swagger\.io/)
})
