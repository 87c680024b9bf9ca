import t, { type Test } from 'tap'
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { bearer, buildApp, listen, startIssuer, type TestIssuer } from '../helper.js'
import { multipart, png } from '../fixtures.js'

// Over a real socket: app.inject buffers the whole body, so it cannot show what streaming does.

const CHUNK = 64 * 1024

interface Sent { status: number, headers: IncomingMessage['headers'], body: Buffer }

function collect (response: IncomingMessage): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    response.on('data', (chunk: Buffer) => chunks.push(chunk))
    response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }))
    response.on('error', reject)
  })
}

/** Starts a streamed (chunked) upload of `image`; the caller writes the body. */
function startUpload (base: string, token: string, image: Buffer): { request: ClientRequest, body: Buffer, response: Promise<Sent> } {
  const { body, contentType } = multipart([{ name: 'file', filename: 'big.png', type: 'image/png', data: image }])
  const request = httpRequest(`${base}/api/upload`, { method: 'POST', headers: { ...bearer(token), 'content-type': contentType } })
  const response = new Promise<Sent>((resolve, reject) => {
    request.on('response', (res) => { collect(res).then(resolve, reject) })
    request.on('error', reject)
  })
  return { request, body, response }
}

/** Writes `bytes` in chunks, waiting for the socket to drain; stops quietly if the server answers early. */
async function writeChunks (request: ClientRequest, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length && !request.destroyed; offset += CHUNK) {
    if (!request.write(bytes.subarray(offset, offset + CHUNK))) {
      await new Promise<void>((resolve) => {
        const done = () => { request.off('drain', done).off('close', done); resolve() }
        request.on('drain', done).on('close', done)
      })
    }
  }
}

async function leftovers (app: FastifyInstance, uploadDir: string) {
  return {
    incoming: await readdir(join(uploadDir, '.incoming')),
    stored: (await readdir(uploadDir)).filter((name) => name !== '.incoming'),
    rows: await app.prisma.image.count()
  }
}

async function waitFor (check: () => Promise<boolean>, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return check()
}

async function start (t: Test, issuer: TestIssuer, env: Record<string, string> = {}) {
  const { app, dataDir } = await buildApp(t, { issuer, env })
  return { app, base: await listen(app), uploadDir: join(dataDir, 'uploads'), token: issuer.sign() }
}

t.test('streaming uploads', async (t) => {
  const issuer = await startIssuer(t)

  t.test('a file over MAX_UPLOAD_BYTES is 413 and leaves nothing behind', async (t) => {
    const limit = 64 * 1024
    const { app, base, uploadDir, token } = await start(t, issuer, { MAX_UPLOAD_BYTES: String(limit) })
    const { request, body, response } = startUpload(base, token, png(16, 16, 1024 * 1024))
    await writeChunks(request, body)
    request.end()
    const sent = await response
    t.equal(sent.status, 413)
    t.same(JSON.parse(sent.body.toString()), {
      statusCode: 413, error: 'Payload Too Large', code: 'file_too_large', message: `The file is larger than the limit of ${limit} bytes`
    })
    t.same(await leftovers(app, uploadDir), { incoming: [], stored: [], rows: 0 })

    const small = startUpload(base, token, png())
    small.request.end(small.body)
    t.equal((await small.response).status, 201, 'a file under the limit still goes through')
  })

  t.test('an upload cut off halfway leaves nothing behind and the server carries on', async (t) => {
    const { app, base, uploadDir, token } = await start(t, issuer)
    const { request, body, response } = startUpload(base, token, png(16, 16, 2 * 1024 * 1024))
    response.catch(() => {}) // the socket is destroyed below
    await writeChunks(request, body.subarray(0, body.length / 2))
    t.ok(await waitFor(async () => (await readdir(join(uploadDir, '.incoming'))).some((name) => name.endsWith('.part'))),
      'the upload is being written to .incoming')
    request.destroy()

    t.ok(await waitFor(async () => {
      const left = await leftovers(app, uploadDir)
      return left.incoming.length === 0 && left.stored.length === 0
    }), 'the temporary file is removed')
    t.same(await leftovers(app, uploadDir), { incoming: [], stored: [], rows: 0 })

    const list = await fetch(`${base}/api/images`, { headers: bearer(token) })
    t.equal(list.status, 200, 'the server still answers')
    t.same(await list.json(), { images: [], nextCursor: null })
  })

  t.test('closing the app while an upload is cut off waits for its temporary file to go', async (t) => {
    const { app, base, uploadDir, token } = await start(t, issuer)
    const { request, body, response } = startUpload(base, token, png(16, 16, 2 * 1024 * 1024))
    response.catch(() => {}) // the server cuts the connection below
    await writeChunks(request, body.subarray(0, body.length / 2))
    t.ok(await waitFor(async () => (await readdir(join(uploadDir, '.incoming'))).length > 0), 'the upload is in .incoming')
    app.server.closeAllConnections() // what the shutdown deadline does
    await app.close()
    t.same(await readdir(join(uploadDir, '.incoming')), [], 'no temporary file once close() resolves')
  })

  t.test('an upload refused before its body is read is answered and its connection closed, not left stuck', async (t) => {
    const { app, base, uploadDir, token } = await start(t, issuer)
    const { body, contentType } = multipart([{ name: 'image', filename: 'cat.png', data: png(16, 16, 4 * 1024 * 1024) }])
    const request = httpRequest(`${base}/api/upload`, { method: 'POST', headers: { ...bearer(token), 'content-type': contentType } })
    const closed = new Promise<boolean>((resolve) => request.on('close', () => resolve(true)))
    const response = new Promise<Sent>((resolve, reject) => {
      request.on('response', (res) => { collect(res).then(resolve, reject) })
      request.on('error', reject)
    })
    request.write(body.subarray(0, 1024 * 1024)) // and no more: the server stops reading at the part's header
    const sent = await response
    t.equal(sent.status, 400)
    t.match(JSON.parse(sent.body.toString()), { code: 'missing_file', message: 'The image must be in a field named "file", not "image"' })
    t.ok(await Promise.race([closed, sleep(2000).then(() => false)]), 'the server closes the half-read connection')
    t.same(await leftovers(app, uploadDir), { incoming: [], stored: [], rows: 0 })
    const list = await fetch(`${base}/api/images`, { headers: bearer(token) })
    t.equal(list.status, 200, 'the server still answers')
  })

  t.test('a large upload streamed in chunks is stored byte for byte', async (t) => {
    const { app, base, uploadDir, token } = await start(t, issuer)
    const image = png(32, 32, 2 * 1024 * 1024)
    const { request, body, response } = startUpload(base, token, image)
    await writeChunks(request, body)
    request.end()
    const sent = await response
    t.equal(sent.status, 201)
    const metadata = JSON.parse(sent.body.toString())
    t.match(metadata, { mimeType: 'image/png', size: image.length, width: 32, height: 32 })

    const download = await fetch(`${base}${metadata.url}`, { headers: bearer(token) })
    t.equal(download.status, 200)
    t.equal(download.headers.get('content-length'), String(image.length))
    t.ok(Buffer.from(await download.arrayBuffer()).equals(image), 'the same bytes come back')
    const left = await leftovers(app, uploadDir)
    t.same(left.incoming, [], 'nothing left in .incoming')
    t.equal(left.stored.length, 1)
  })
})
