import t from 'tap'
import { buildApp } from '../helper.js'

t.test('GET / names the service and the docs', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ url: '/' })
  t.equal(response.statusCode, 200)
  t.match(response.json(), { name: 'Cat Data API', docs: '/docs', version: String })
})

t.test('GET /health checks the database and the storage folder', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ url: '/health' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok', checks: { database: 'ok', storage: 'ok' } })
})

t.test('unknown routes answer the JSON error shape', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ url: '/nope?x=1' })
  t.equal(response.statusCode, 404)
  t.same(response.json(), { statusCode: 404, error: 'Not Found', code: 'not_found', message: 'Route GET /nope not found' })
})

t.test('the OpenAPI document lists every route with a bearer scheme', async (t) => {
  const { app } = await buildApp(t)
  const response = await app.inject({ url: '/docs/json' })
  t.equal(response.statusCode, 200)
  const document = response.json()
  t.same(Object.keys(document.paths).sort(), ['/', '/api/image/{id}', '/api/image/{id}/metadata', '/api/images', '/api/upload', '/health'])
  t.match(document.components.securitySchemes, { bearerAuth: { type: 'http', scheme: 'bearer' } })
  const docsPage = await app.inject({ url: '/docs' })
  t.ok(docsPage.statusCode < 400, 'the docs page is served')
})
