import t from 'tap'
import { compileErrors, validate } from '@readme/openapi-parser'
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

t.test('the OpenAPI document passes an independent validator, and every operation is documented', async (t) => {
  const { app } = await buildApp(t)
  const document = (await app.inject({ url: '/docs/json' })).json()
  const result = await validate(structuredClone(document), { resolve: { external: false } })
  t.ok(result.valid, result.valid ? 'valid OpenAPI 3.1' : compileErrors(result))
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.summary && operation.description && Array.isArray(operation.tags), `${method.toUpperCase()} ${path} has a summary, description and tag`)
      const responses = operation.responses as Record<string, unknown>
      t.ok(responses['500'], `${method.toUpperCase()} ${path} documents its error answers`)
    }
  }
})

t.test('GET /health answers 503 and names the failing part', async (t) => {
  const { app } = await buildApp(t)
  const { rm, mkdir } = await import('node:fs/promises')

  await rm(app.imageStore.tempDir, { recursive: true })
  const storageDown = await app.inject({ url: '/health' })
  t.equal(storageDown.statusCode, 503)
  t.same(storageDown.json(), { status: 'failing', checks: { database: 'ok', storage: 'failing' } })
  await mkdir(app.imageStore.tempDir)

  // The database cannot be made to fail from outside while the app holds it open; stand in for a broken one.
  const query = app.prisma.$queryRawUnsafe
  app.prisma.$queryRawUnsafe = () => Promise.reject(new Error('disk I/O error')) as never
  t.after(() => { app.prisma.$queryRawUnsafe = query })
  const databaseDown = await app.inject({ url: '/health' })
  t.equal(databaseDown.statusCode, 503)
  t.same(databaseDown.json(), { status: 'failing', checks: { database: 'failing', storage: 'ok' } })
})
