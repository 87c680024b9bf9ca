// The floor for bench/suite.ts: the least a Fastify server can do to answer the API's shapes. No auth, no
// database, no sniffing, no helmet, no request ids, logger off. It answers with what the suite gives it in
// FLOOR_DIR, copied from the real app's answers so that the bytes on the wire are alike:
//   root.json      GET /                        (constant JSON)
//   list.json      GET /api/images              (constant JSON, the real list of 20 images)
//   metadata.json  GET /api/image/:id/metadata  (constant JSON) and the body of POST /api/upload's 201
//   image.png      GET /api/image/:id           (streamed from disk, with content-type and content-length)
//   uploads/       where POST /api/upload pipes each file; the suite empties it after each measurement
// Run by the suite as a child process (node --import tsx bench/floor.ts) on the port PORT names.
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import Fastify from 'fastify'
import fastifyMultipart from '@fastify/multipart'

const dir = process.env.FLOOR_DIR
if (dir === undefined || dir === '') throw new Error('FLOOR_DIR is required')
const readJson = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'))
const root = readJson('root.json')
const list = readJson('list.json')
const metadata = readJson('metadata.json')
const imagePath = join(dir, 'image.png')
const imageSize = statSync(imagePath).size
const uploads = join(dir, 'uploads')
await mkdir(uploads, { recursive: true })

const app = Fastify({ logger: false })
await app.register(fastifyMultipart, { limits: { fileSize: Number(process.env.FLOOR_MAX_UPLOAD_BYTES ?? 16 * 1024 * 1024), files: 1 } })

app.get('/', async () => root)
app.get('/api/images', async () => list)
app.get('/api/image/:id/metadata', async () => metadata)
app.get('/api/image/:id', async (_request, reply) => reply
  .type('image/png')
  .header('content-length', imageSize)
  .send(createReadStream(imagePath)))

let uploaded = 0
app.post('/api/upload', async (request, reply) => {
  const file = await request.file()
  if (file === undefined) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'no file' })
  await pipeline(file.file, createWriteStream(join(uploads, `${process.pid}-${uploaded++}.bin`)))
  if (file.file.truncated) return reply.code(413).send({ statusCode: 413, error: 'Payload Too Large', message: 'too large' })
  return reply.code(201).header('location', '/api/image/1').send(metadata)
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })

// If the suite dies without stopping us (kill -9), we are re-parented: leave, and take our folder along
// (otherwise the suite removes it once we have exited).
const parent = process.ppid
const orphaned = () => process.ppid !== parent
const close = () => {
  if (orphaned()) rmSync(dir, { recursive: true, force: true })
  app.close().then(() => process.exit(0), () => process.exit(1))
}
process.once('SIGTERM', close)
process.once('SIGINT', close)
setInterval(() => { if (orphaned()) close() }, 1000).unref()
