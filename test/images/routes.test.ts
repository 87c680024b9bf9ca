import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { bearer, buildApp } from '../helper.js'
import { avif, gif, jpeg, multipart, png, webp } from '../fixtures.js'

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const STORED_NAME = new RegExp(`^${UUID}\\.(png|jpg|gif|webp|avif)$`)

type Part = Parameters<typeof multipart>[0][number]

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** Every file under `dir`, as paths relative to it. */
async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort()
}

// One app for the whole file (each subtest uses its own subject where it counts images); a root-level
// teardown would wait for the process to go idle, which the open app prevents.
t.test('image routes', async (t) => {
  const { app, issuer, dataDir } = await buildApp(t)
  const uploadDir = join(dataDir, 'uploads')
  const alice = issuer.sign()
  const bob = issuer.sign({ sub: 'auth0|bob' })

  function upload (parts: Part[], token = alice) {
    const { body, contentType } = multipart(parts)
    return app.inject({ method: 'POST', url: '/api/upload', headers: { ...bearer(token), 'content-type': contentType }, payload: body })
  }

  const uploadFile = (data: Buffer, filename = 'cat.png', token = alice, type = 'image/png') =>
    upload([{ name: 'file', filename, type, data }], token)

  function get (url: string, token = alice, method: 'GET' | 'DELETE' = 'GET') {
    return app.inject({ method, url, headers: bearer(token) })
  }

  /** What is on disk (the whole data folder) and in the table, to compare before and after a failed upload. */
  async function state () {
    return { files: await filesUnder(dataDir), rows: await app.prisma.image.count() }
  }

  async function expectError (t: Test, response: Awaited<ReturnType<typeof upload>>, statusCode: number, code: string, message?: string | RegExp) {
    t.equal(response.statusCode, statusCode, `status ${statusCode}`)
    t.match(response.json(), { statusCode, code, error: String, message: message ?? String })
  }

  /** Runs a request that must fail, and checks it leaves no file (not even in .incoming) and no row. */
  async function failingUpload (t: Test, send: () => ReturnType<typeof upload>, statusCode: number, code: string, message?: string | RegExp) {
    const before = await state()
    const response = await send()
    await expectError(t, response, statusCode, code, message)
    t.same(await state(), before, 'no file and no row left behind')
    t.same(await readdir(join(uploadDir, '.incoming')), [], '.incoming is empty')
  }

  const formats = [
    { label: 'PNG', bytes: png(4, 3), mimeType: 'image/png', extension: 'png', width: 4, height: 3 },
    { label: 'JPEG', bytes: jpeg(5, 7), mimeType: 'image/jpeg', extension: 'jpg', width: 5, height: 7 },
    { label: 'GIF', bytes: gif(6, 2), mimeType: 'image/gif', extension: 'gif', width: 6, height: 2 },
    { label: 'WebP', bytes: webp(9, 8), mimeType: 'image/webp', extension: 'webp', width: 9, height: 8 },
    { label: 'AVIF', bytes: avif(10, 11), mimeType: 'image/avif', extension: 'avif', width: 10, height: 11 }
  ]

  t.test('each accepted format uploads, downloads byte for byte and describes itself', async (t) => {
    for (const format of formats) {
      await t.test(format.label, async (t) => {
        const filename = `whiskers.${format.extension}`
        const response = await uploadFile(format.bytes, filename, alice, format.mimeType)
        t.equal(response.statusCode, 201)
        const metadata = response.json()
        t.match(metadata, {
          id: Number,
          name: new RegExp(`^${UUID}-${filename.replace('.', '\\.')}$`),
          originalName: filename,
          mimeType: format.mimeType,
          size: format.bytes.length,
          width: format.width,
          height: format.height,
          sha256: sha256(format.bytes),
          url: `/api/image/${metadata.id}`
        })
        t.ok(!Number.isNaN(Date.parse(metadata.createdAt)), 'createdAt is a date')
        t.equal(response.headers.location, `/api/image/${metadata.id}`)

        const download = await get(metadata.url)
        t.equal(download.statusCode, 200)
        t.ok(download.rawPayload.equals(format.bytes), 'the same bytes come back')
        t.equal(download.headers['content-type'], format.mimeType)
        t.equal(download.headers['content-length'], String(format.bytes.length))
        t.equal(download.headers.etag, `"${sha256(format.bytes)}"`)
        t.match(download.headers['cache-control'], /^private\b/)
        t.equal(download.headers['x-content-type-options'], 'nosniff')
        t.match(download.headers['content-disposition'], /^inline\b/)

        const described = await get(`${metadata.url}/metadata`)
        t.equal(described.statusCode, 200)
        t.same(described.json(), metadata)

        const stored = (await filesUnder(uploadDir)).filter((name) => name.startsWith(metadata.name.slice(0, 36)))
        t.same(stored, [`${metadata.name.slice(0, 36)}.${format.extension}`], 'stored under <uuid>.<ext>')
      })
    }
  })

  t.test('the list is newest first and only the caller\'s', async (t) => {
    const carol = issuer.sign({ sub: 'auth0|carol' })
    const ids: number[] = []
    for (const bytes of [png(), gif(), jpeg()]) ids.push((await uploadFile(bytes, 'x.png', carol)).json().id)
    const response = await get('/api/images', carol)
    t.equal(response.statusCode, 200)
    const body = response.json()
    t.same(body.images.map((image: { id: number }) => image.id), [...ids].reverse())
    t.equal(body.nextCursor, null)
    t.notOk(response.headers.link, 'no Link header on the last page')
    t.match(body.images[0], { mimeType: 'image/jpeg', url: `/api/image/${ids[2]}` })
  })

  t.test('delete removes the row and the file', async (t) => {
    const { id, name } = (await uploadFile(png())).json()
    const file = join(uploadDir, `${name.slice(0, 36)}.png`)
    t.ok(existsSync(file))
    const deleted = await get(`/api/image/${id}`, alice, 'DELETE')
    t.equal(deleted.statusCode, 204)
    t.equal(deleted.body, '')
    t.notOk(existsSync(file), 'the file is gone')
    for (const [url, method] of [[`/api/image/${id}`, 'GET'], [`/api/image/${id}/metadata`, 'GET'], [`/api/image/${id}`, 'DELETE']] as const) {
      await expectError(t, await get(url, alice, method), 404, 'not_found', 'Image not found')
    }
  })

  t.test('a row whose file has gone is a plain 500, not an error dressed in the image\'s headers', async (t) => {
    const { url, name } = (await uploadFile(png())).json()
    await rm(join(uploadDir, `${name.slice(0, 36)}.png`))
    const response = await get(url)
    t.equal(response.statusCode, 500)
    t.same(response.json(), { statusCode: 500, error: 'Internal Server Error', code: 'internal_error', message: 'Internal server error' })
    t.notOk(response.headers.etag, 'no ETag')
    t.notMatch(response.headers['cache-control'] ?? '', /immutable/, 'not cacheable as the image')
    t.equal((await get(url, alice, 'DELETE')).statusCode, 204, 'it can still be deleted')
  })

  t.test('the declared type and the file name are ignored; the bytes decide', async (t) => {
    const response = await uploadFile(png(), 'x.txt', alice, 'text/plain')
    t.equal(response.statusCode, 201)
    t.match(response.json(), { mimeType: 'image/png', originalName: 'x.txt' })
    const download = await get(response.json().url)
    t.equal(download.headers['content-type'], 'image/png')

    const fakes = {
      html: Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>'),
      svg: Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'),
      text: Buffer.from('just some text, not an image\n'),
      'truncated PNG header': png().subarray(0, 20),
      'PNG signature only': png().subarray(0, 8)
    }
    for (const [label, data] of Object.entries(fakes)) {
      await t.test(label, (t) => failingUpload(t, () => uploadFile(data, 'cat.png', alice, 'image/png'), 415, 'unsupported_media_type',
        'The file is not a JPEG, PNG, GIF, WebP or AVIF image'))
    }
  })

  t.test('malformed uploads are rejected with the contract\'s codes and leave nothing behind', async (t) => {
    await t.test('empty file', (t) => failingUpload(t, () => uploadFile(Buffer.alloc(0)), 400, 'empty_file', 'The file is empty'))
    await t.test('only a text field', (t) => failingUpload(t, () => upload([{ name: 'file', data: 'not a file' }]), 400, 'missing_file',
      'No image in the request: send it as multipart/form-data in a field named "file"'))
    await t.test('no parts at all', (t) => failingUpload(t, () => upload([]), 400, 'missing_file'))
    await t.test('file under another field name', (t) => failingUpload(t, () => upload([{ name: 'image', filename: 'cat.png', data: png() }]),
      400, 'missing_file', 'The image must be in a field named "file", not "image"'))
    await t.test('two files', (t) => failingUpload(t, () => upload([
      { name: 'file', filename: 'a.png', data: png() },
      { name: 'file', filename: 'b.png', data: png() }
    ]), 400, 'too_many_files', 'Send exactly one file per upload'))
    await t.test('a second file under another name', (t) => failingUpload(t, () => upload([
      { name: 'file', filename: 'a.png', data: png() },
      { name: 'other', filename: 'b.png', data: png() }
    ]), 400, 'too_many_files'))
    await t.test('JSON body', (t) => failingUpload(t, () => app.inject({
      method: 'POST', url: '/api/upload', headers: bearer(alice), payload: { file: 'iVBORw0KGgo=' }
    }), 415, 'invalid_content_type', 'Send the image as multipart/form-data'))
    await t.test('raw image body', (t) => failingUpload(t, () => app.inject({
      method: 'POST', url: '/api/upload', headers: { ...bearer(alice), 'content-type': 'image/png' }, payload: png()
    }), 415, 'invalid_content_type'))
    await t.test('multipart body cut off in the file', (t) => {
      const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png(4, 3, 4096) }])
      return failingUpload(t, () => app.inject({
        method: 'POST', url: '/api/upload', headers: { ...bearer(alice), 'content-type': contentType }, payload: body.subarray(0, 2000)
      }), 400, 'invalid_request')
    })
    await t.test('multipart without a boundary', (t) => failingUpload(t, () => app.inject({
      method: 'POST', url: '/api/upload', headers: { ...bearer(alice), 'content-type': 'multipart/form-data' }, payload: 'x'
    }), 400, 'invalid_request'))
    await t.test('no token: 401 before the body is read', (t) => failingUpload(t, () => {
      const { body, contentType } = multipart([{ name: 'file', filename: 'a.png', data: png() }])
      return app.inject({ method: 'POST', url: '/api/upload', headers: { 'content-type': contentType }, payload: body })
    }, 401, 'missing_token'))
  })

  t.test('client file names never become paths', async (t) => {
    const names = {
      '../../etc/passwd.png': 'passwd.png',
      '..\\..\\win.png': 'win.png',
      '/absolute/cat.png': 'cat.png',
      '..': 'image.png',
      'tab\tbell\x07esc\x1bdel\x7f.png': 'tabbellescdel.png',
      'rtl\u202Egnp.exe': 'rtlgnp.exe',
      'chat été (1).png': 'chat été (1).png',
      '  ...hidden  name.png': 'hidden name.png'
    }
    const before = await filesUnder(dataDir)
    for (const [raw, expected] of Object.entries(names)) {
      const response = await uploadFile(png(), raw)
      t.equal(response.statusCode, 201, JSON.stringify(raw))
      const metadata = response.json()
      t.equal(metadata.originalName, expected, JSON.stringify(raw))
      t.equal(metadata.name, `${metadata.name.slice(0, 36)}-${expected}`)
      const download = await get(metadata.url)
      const disposition = download.headers['content-disposition'] as string
      t.match(disposition, /^inline; filename\*=UTF-8''[A-Za-z0-9%._~!#$&+^`|-]+$/, 'an RFC 8187 ext-value')
      t.equal(decodeURIComponent(disposition.slice(disposition.indexOf("''") + 2)), expected)
    }

    const long = await uploadFile(png(), `${'a'.repeat(496)}.png`)
    t.equal(long.statusCode, 201)
    t.equal(long.json().originalName, `${'a'.repeat(96)}.png`)

    const added = (await filesUnder(dataDir)).filter((path) => !before.includes(path))
    t.equal(added.length, Object.keys(names).length + 1, 'one new file per upload')
    for (const path of added) t.match(path, new RegExp(`^uploads/${STORED_NAME.source.slice(1)}`), `${path} is <uuid>.<ext> in UPLOAD_DIR`)
  })

  t.test('ids must be integers in 1..2147483647', async (t) => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999', '2147483648']) {
      for (const [url, method] of [[`/api/image/${id}`, 'GET'], [`/api/image/${id}/metadata`, 'GET'], [`/api/image/${id}`, 'DELETE']] as const) {
        await expectError(t, await get(url, alice, method), 400, 'invalid_id', 'Image id must be a positive integer')
      }
    }
    for (const [url, method] of [['/api/image/2147483647', 'GET'], ['/api/image/424242/metadata', 'GET'], ['/api/image/424242', 'DELETE']] as const) {
      await expectError(t, await get(url, alice, method), 404, 'not_found', 'Image not found')
    }
  })

  t.test('another subject\'s image is 404 everywhere and never listed', async (t) => {
    const { id, url } = (await uploadFile(png())).json()
    const listed = await get('/api/images', bob)
    t.equal(listed.statusCode, 200)
    t.same(listed.json(), { images: [], nextCursor: null })
    await expectError(t, await get(url, bob), 404, 'not_found')
    await expectError(t, await get(`${url}/metadata`, bob), 404, 'not_found')
    await expectError(t, await get(url, bob, 'DELETE'), 404, 'not_found')
    const still = await get(url)
    t.equal(still.statusCode, 200, 'alice\'s image survives')
    t.equal((await get(`/api/images?limit=100`)).json().images.filter((image: { id: number }) => image.id === id).length, 1)
  })

  t.test('paging follows cursors through every image exactly once', async (t) => {
    const dave = issuer.sign({ sub: 'auth0|dave' })
    const ids: number[] = []
    for (let i = 0; i < 5; i++) ids.push((await uploadFile(png(i + 1, 1), `p${i}.png`, dave)).json().id)

    const seen: number[] = []
    let url: string | null = '/api/images?limit=2'
    let pages = 0
    while (url !== null) {
      const response = await get(url, dave)
      t.equal(response.statusCode, 200)
      const { images, nextCursor } = response.json()
      seen.push(...images.map((image: { id: number }) => image.id))
      pages++
      if (nextCursor === null) {
        t.notOk(response.headers.link, 'no Link on the last page')
        url = null
      } else {
        t.equal(images.length, 2)
        t.equal(response.headers.link, `</api/images?limit=2&cursor=${nextCursor}>; rel="next"`)
        url = `/api/images?limit=2&cursor=${encodeURIComponent(nextCursor)}`
      }
    }
    t.equal(pages, 3)
    t.same(seen, [...ids].reverse(), 'all five, newest first, once each')

    const exact = await get('/api/images?limit=5', dave)
    t.equal(exact.json().images.length, 5)
    t.equal(exact.json().nextCursor, null, 'no next page when the last page is exactly full')
  })

  t.test('bad limit or cursor is 400 invalid_request naming the parameter', async (t) => {
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'limit=1.5', 'limit=']) {
      await expectError(t, await get(`/api/images?${query}`), 400, 'invalid_request', /limit/)
    }
    for (const cursor of ['garbage', 'aTA', 'aS0x', 'x'.repeat(65), encodeURIComponent('i1\n'), '']) {
      await expectError(t, await get(`/api/images?cursor=${cursor}`), 400, 'invalid_request', /cursor/)
    }
  })
})
