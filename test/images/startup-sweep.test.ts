import t from 'tap'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import serviceApp from '../../src/app.js'
import { serverOptions } from '../../src/server-options.js'
import { bearer, startIssuer, testEnv, type TestIssuer } from '../helper.js'
import { multipart, png } from '../fixtures.js'

/** As buildApp does, but on a data folder the test chooses, so that a second app can open the same one. */
async function open (dataDir: string, issuer: TestIssuer): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }))
  await app.register(fp(serviceApp), { env: testEnv(dataDir, issuer) })
  await app.ready()
  return app
}

t.test('start-up removes unfinished uploads and files no row points at, and nothing else', async (t) => {
  const issuer = await startIssuer(t)
  const token = issuer.sign()
  const dataDir = t.testdir()
  const uploadDir = join(dataDir, 'uploads')
  const image = png(7, 5)

  const first = await open(dataDir, issuer)
  let url: string
  try {
    const { body, contentType } = multipart([{ name: 'file', filename: 'kept.png', data: image }])
    const response = await first.inject({ method: 'POST', url: '/api/upload', headers: { ...bearer(token), 'content-type': contentType }, payload: body })
    t.equal(response.statusCode, 201)
    url = response.json().url
  } finally {
    await first.close()
  }
  const [kept] = await readdir(uploadDir).then((names) => names.filter((name) => name !== '.incoming'))

  // What a crash leaves behind, and what someone else put in the folder.
  const part = join(uploadDir, '.incoming', `${randomUUID()}.part`)
  const partDir = join(uploadDir, '.incoming', 'stray-folder')
  const orphan = join(uploadDir, `${randomUUID()}.png`)
  const foreign = join(uploadDir, 'README.txt')
  await writeFile(part, image.subarray(0, 30))
  await mkdir(partDir)
  await writeFile(join(partDir, 'x'), 'x')
  await writeFile(orphan, image)
  await writeFile(foreign, 'not an upload')

  const second = await open(dataDir, issuer)
  t.after(() => second.close())
  t.same(await readdir(join(uploadDir, '.incoming')), [], 'unfinished uploads are removed')
  t.notOk(existsSync(orphan), 'a file no row points at is swept')
  t.ok(existsSync(foreign), 'a file the server did not name is left alone')
  t.same((await readdir(uploadDir)).sort(), ['.incoming', 'README.txt', kept].sort())

  const download = await second.inject({ url, headers: bearer(token) })
  t.equal(download.statusCode, 200, 'the real image is still served')
  t.ok(download.rawPayload.equals(image), 'byte for byte')
  const list = await second.inject({ url: '/api/images', headers: bearer(token) })
  t.equal(list.json().images.length, 1)
})

t.test('files beside an empty database are not swept (more likely a wrong DATABASE_URL than a crash)', async (t) => {
  const issuer = await startIssuer(t)
  const dataDir = t.testdir({ uploads: {} })
  const stored = join(dataDir, 'uploads', `${randomUUID()}.png`)
  await writeFile(stored, png())
  const app = await open(dataDir, issuer)
  t.after(() => app.close())
  t.ok(existsSync(stored), 'the file is kept')
})
