import t, { type Test } from 'tap'
import { readdir } from 'node:fs/promises'
import { request, type ClientRequest } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bearer, startIssuer, testEnv, type TestIssuer } from './helper.js'
import { multipart, png } from './fixtures.js'
import { startServerProcess } from './server-process.js'

/** Sends the first half of a 2 MB upload and returns the request, its response, and the rest of the body. */
function halfUpload (url: string, issuer: TestIssuer) {
  const { body, contentType } = multipart([{ name: 'file', filename: 'slow.png', data: png(16, 16, 2 * 1024 * 1024) }])
  const req: ClientRequest = request(`${url}/api/upload`, {
    method: 'POST',
    headers: { ...bearer(issuer.sign()), 'content-type': contentType, 'content-length': body.length }
  })
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
  })
  req.write(body.subarray(0, body.length / 2))
  return { req, response, rest: body.subarray(body.length / 2) }
}

async function waitForTempFile (dir: string) {
  for (let i = 0; i < 200; i++) {
    if ((await readdir(dir)).length > 0) return
    await sleep(20)
  }
  throw new Error('the upload never reached the temporary folder')
}

async function server (t: Test, graceMs: number) {
  const issuer = await startIssuer(t)
  const dataDir = t.testdir()
  const child = await startServerProcess({ ...testEnv(dataDir, issuer), SHUTDOWN_GRACE_MS: String(graceMs) })
  t.teardown(() => { child.child.kill('SIGKILL') })
  return { issuer, dataDir, uploads: join(dataDir, 'uploads'), ...child }
}

t.test('SIGTERM lets an upload in flight finish, then exits cleanly', async (t) => {
  const { issuer, url, child, exited, uploads, output } = await server(t, 5000)
  const upload = halfUpload(url, issuer)
  await waitForTempFile(join(uploads, '.incoming'))

  child.kill('SIGTERM')
  await sleep(300)
  const refused = await fetch(`${url}/`).then(() => false, () => true)
  t.ok(refused, 'no new connections once closing')
  upload.req.end(upload.rest)

  const { status, body } = await upload.response
  t.equal(status, 201, 'the upload that was in flight completed')
  t.equal(JSON.parse(body).width, 16)
  t.equal(await exited, 0, 'the process exits with 0')
  t.match(output(), /closing: no new connections/)
  const stored = (await readdir(uploads)).filter((name) => name !== '.incoming')
  t.equal(stored.length, 1, 'and its file is in place')
})

t.test('an upload cut off by the grace deadline leaves nothing behind', async (t) => {
  const { issuer, url, child, exited, uploads, output } = await server(t, 500)
  const upload = halfUpload(url, issuer)
  upload.response.catch(() => {})
  await waitForTempFile(join(uploads, '.incoming'))

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'the process exits once the deadline has cut the connection')
  t.match(output(), /grace period over/)
  t.same(await readdir(join(uploads, '.incoming')), [], 'no temporary file left')
  t.same((await readdir(uploads)).filter((name) => name !== '.incoming'), [], 'no stored file')
  upload.req.destroy()
})
