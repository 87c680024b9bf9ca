import t, { type Test } from 'tap'
import { readdir } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startIssuer, testEnv, bearer, type TestIssuer } from './helper.js'
import { multipart, png } from './fixtures.js'
import { startServerProcess } from './server-process.js'

async function startChild (t: Test, env: Record<string, string>) {
  const server = await startServerProcess(env)
  t.teardown(() => { server.child.kill('SIGKILL') })
  return server
}

async function upload (url: string, issuer: TestIssuer, data: Buffer) {
  const { body, contentType } = multipart([{ name: 'file', filename: 'cat.png', data }])
  const response = await fetch(`${url}/api/upload`, { method: 'POST', headers: { ...bearer(issuer.sign()), 'content-type': contentType }, body })
  return { status: response.status, body: await response.json() as { id: number, url: string } }
}

t.test('kill -9 in the middle of an upload leaves a store that the next start-up makes consistent', async (t) => {
  const issuer = await startIssuer(t)
  const dataDir = t.testdir()
  const env = testEnv(dataDir, issuer)
  const uploads = join(dataDir, 'uploads')

  const first = await startChild(t, env)
  const kept = await upload(first.url, issuer, png(8, 8))
  t.equal(kept.status, 201)

  // Half of a 4 MB upload, then the server dies without any chance to clean up.
  const big = multipart([{ name: 'file', filename: 'big.png', data: png(16, 16, 4 * 1024 * 1024) }])
  const req = request(`${first.url}/api/upload`, {
    method: 'POST',
    headers: { ...bearer(issuer.sign()), 'content-type': big.contentType, 'content-length': big.body.length }
  })
  req.on('error', () => {})
  req.write(big.body.subarray(0, big.body.length / 2))
  let partial: string[] = []
  for (let i = 0; i < 100 && partial.length === 0; i++) {
    await sleep(20)
    partial = await readdir(join(uploads, '.incoming'))
  }
  t.equal(partial.length, 1, 'the upload is being written to a temporary file')
  first.child.kill('SIGKILL')
  await first.exited
  req.destroy()
  t.same(await readdir(join(uploads, '.incoming')), partial, 'the temporary file outlives the crash')

  const second = await startChild(t, env)
  t.same(await readdir(join(uploads, '.incoming')), [], 'start-up removed the unfinished upload')
  const stored = (await readdir(uploads)).filter((name) => name !== '.incoming')
  t.equal(stored.length, 1, 'only the completed image is in the store')

  const listed = await fetch(`${second.url}/api/images`, { headers: bearer(issuer.sign()) })
  const { images } = await listed.json() as { images: Array<{ id: number }> }
  t.same(images.map((image) => image.id), [kept.body.id], 'and the database has exactly its row')
  const download = await fetch(`${second.url}${kept.body.url}`, { headers: bearer(issuer.sign()) })
  t.same(Buffer.from(await download.arrayBuffer()), png(8, 8), 'whose bytes are intact')
  second.child.kill('SIGTERM')
})
