import t from 'tap'
import { createHash } from 'node:crypto'
import { buildApp, bearer, listen } from '../helper.js'
import { multipart, png } from '../fixtures.js'

t.test('downloads behave like a good static file server', async (t) => {
  const { app, issuer } = await buildApp(t)
  const auth = bearer(issuer.sign())
  const bytes = png(20, 10, 5000)
  const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`
  const { body, contentType } = multipart([{ name: 'file', filename: 'range.png', data: bytes }])
  const created = await app.inject({ method: 'POST', url: '/api/upload', headers: { ...auth, 'content-type': contentType }, payload: body })
  const url = created.json().url as string
  const base = await listen(app)
  const get = (headers: Record<string, string> = {}, method = 'GET') => fetch(`${base}${url}`, { method, headers: { ...auth, ...headers } })

  t.test('GET: the bytes with a strong ETag, long private caching and range support', async (t) => {
    const response = await get()
    t.equal(response.status, 200)
    t.same(Buffer.from(await response.arrayBuffer()), bytes)
    t.equal(response.headers.get('etag'), etag)
    t.equal(response.headers.get('content-length'), String(bytes.length))
    t.equal(response.headers.get('accept-ranges'), 'bytes')
    t.match(response.headers.get('cache-control'), /^private, max-age=\d{7,}/)
  })

  t.test('HEAD: the same headers and no body', async (t) => {
    const response = await get({}, 'HEAD')
    t.equal(response.status, 200)
    t.equal(response.headers.get('etag'), etag)
    t.equal(response.headers.get('content-length'), String(bytes.length))
    t.equal(response.headers.get('content-type'), 'image/png')
    t.equal((await response.arrayBuffer()).byteLength, 0)
  })

  t.test('If-None-Match with the ETag (strong, weak, in a list or *) is 304 without a body', async (t) => {
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const response = await get({ 'if-none-match': header })
      t.equal(response.status, 304, header)
      t.equal(response.headers.get('etag'), etag)
      t.equal((await response.arrayBuffer()).byteLength, 0)
    }
    t.equal((await get({ 'if-none-match': '"something-else"' })).status, 200)
  })

  t.test('Range: one range is 206 with Content-Range; past the end is 416', async (t) => {
    const cases: Array<[string, number, number]> = [['bytes=0-9', 0, 9], ['bytes=10-', 10, bytes.length - 1], ['bytes=-7', bytes.length - 7, bytes.length - 1], ['bytes=5-999999', 5, bytes.length - 1]]
    for (const [header, start, end] of cases) {
      const response = await get({ range: header })
      t.equal(response.status, 206, header)
      t.equal(response.headers.get('content-range'), `bytes ${start}-${end}/${bytes.length}`)
      t.equal(response.headers.get('content-length'), String(end - start + 1))
      t.same(Buffer.from(await response.arrayBuffer()), bytes.subarray(start, end + 1))
    }
    const outside = await get({ range: `bytes=${bytes.length}-` })
    t.equal(outside.status, 416)
    t.equal(outside.headers.get('content-range'), `bytes */${bytes.length}`)
    t.match(await outside.json(), { code: 'range_not_satisfiable' })
    for (const ignored of ['bytes=0-1,4-5', 'items=0-1', 'bytes=9-3', 'nonsense']) {
      const response = await get({ range: ignored })
      t.equal(response.status, 200, `${ignored} gets the whole image`)
      t.equal((await response.arrayBuffer()).byteLength, bytes.length)
    }
  })

  t.test('If-Range: the range only while the ETag still matches', async (t) => {
    t.equal((await get({ range: 'bytes=0-3', 'if-range': etag })).status, 206)
    t.equal((await get({ range: 'bytes=0-3', 'if-range': '"old"' })).status, 200)
  })

  t.test('a 404 carries none of an image\'s headers', async (t) => {
    const response = await get({}, 'GET').then(() => fetch(`${base}/api/image/999`, { headers: auth }))
    t.equal(response.status, 404)
    t.equal(response.headers.get('etag'), null)
    t.match(response.headers.get('content-type'), /application\/json/)
  })
})
