// Issue #4's benchmark: upload throughput of a 10 MB image against a plain HTTP server that pipes the same
// body into a file stream (same client, same run), downloads/s of a 100 KB image, and the server's peak RSS
// while a 200 MB upload streams. Run: npx tsx bench/images.ts   (BENCH_SECONDS=5 per measurement by default)
import { createServer, request } from 'node:http'
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { AddressInfo } from 'node:net'
import { createIssuer } from '../test/issuer.js'
import { multipart, png } from '../test/fixtures.js'
import { buildIfNeeded, deleteImages, flushDisk, measure, printTable, startServer, type Measured } from './lib.js'

buildIfNeeded()
const issuer = await createIssuer()
const authorization = `Bearer ${issuer.sign({ sub: 'bench|images' })}`
const server = await startServer({
  AUTH0_DOMAIN: issuer.issuer,
  AUTH0_AUDIENCE: issuer.audience,
  MAX_UPLOAD_BYTES: String(300 * 1024 * 1024)
})

const tenMb = multipart([{ name: 'file', filename: 'big.png', type: 'image/png', data: png(64, 64, 10 * 1024 * 1024) }])
const floor = await startFileStreamServer(false)
const flushedFloor = await startFileStreamServer(true)
const rows: Measured[] = []
const uploadOptions = { method: 'POST' as const, body: tenMb.body, connections: 4 }
// Each measurement's files are deleted and the disk synced before the next, so that none pays for the
// write-back of another's; the second round runs in reverse order, so that drift falls on all three alike.
const sides = [
  { label: 'plain file stream', url: `${floor.url}/`, headers: {}, clear: floor.clear },
  { label: 'flushed file stream', url: `${flushedFloor.url}/`, headers: {}, clear: flushedFloor.clear },
  { label: 'POST /api/upload', url: `${server.url}/api/upload`, headers: { authorization }, clear: async () => { await deleteImages(server.url, authorization) } }
]
for (const round of [1, 2]) {
  for (const side of round === 1 ? sides : [...sides].reverse()) {
    rows.push(await measure(`${side.label}, 10 MB (round ${round})`, {
      ...uploadOptions,
      url: side.url,
      headers: { 'content-type': tenMb.contentType, ...side.headers }
    }))
    await side.clear()
    flushDisk()
  }
}
await floor.close()
await flushedFloor.close()

const small = multipart([{ name: 'file', filename: 'small.png', data: png(32, 32, 100 * 1024) }])
const created = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { authorization, 'content-type': small.contentType }, body: small.body })
const { url: imageUrl } = await created.json() as { url: string }
rows.push(await measure('GET /api/image/:id, 100 KB', { url: `${server.url}${imageUrl}`, connections: 50, headers: { authorization } }))
printTable(rows)

/** Upload throughput is request bytes, not the small answers autocannon counts. */
const rate = (pattern: RegExp) => {
  const matching = rows.filter((row) => pattern.test(row.name))
  return matching.reduce((sum, row) => sum + row.requestsPerSecond * tenMb.body.length / 1e6, 0) / matching.length
}
const uploadMBs = rate(/^POST/)
const floorMBs = rate(/^plain/)
const flushedMBs = rate(/^flushed/)
console.log({
  'upload MB/s': uploadMBs.toFixed(1),
  'plain file stream MB/s': floorMBs.toFixed(1),
  ratio: (uploadMBs / floorMBs).toFixed(2),
  // The API fsyncs each file before its row exists; this floor pays the same price, so it shows what the rest costs.
  'flushed file stream MB/s': flushedMBs.toFixed(1),
  'ratio to flushed': (uploadMBs / flushedMBs).toFixed(2)
})

console.log(await peakRssDuringUpload(200 * 1024 * 1024))
await server.stop()
await issuer.close()

/** A node:http server that pipes each request body into a new file (fsynced at close with `flush`): the floor for an upload. */
async function startFileStreamServer (flush: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'cat-data-floor-'))
  let n = 0
  const plain = createServer((req, res) => {
    pipeline(req, createWriteStream(join(dir, String(n++)), { flush })).then(() => res.writeHead(201).end('{}'), () => res.writeHead(500).end())
  })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`,
    clear: () => { for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true }) },
    close: () => new Promise<void>((resolve) => plain.close(() => { rmSync(dir, { recursive: true, force: true }); resolve() }))
  }
}

/** Streams a PNG of `bytes` (a header, then a private chunk of filler) and samples the server's RSS meanwhile. */
async function peakRssDuringUpload (bytes: number) {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
  const image = png(4, 3)
  const boundary = '----cat-data-bench'
  const head = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\n\r\n`),
    image.subarray(0, 33),
    Buffer.from([bytes >>> 24, (bytes >>> 16) & 0xff, (bytes >>> 8) & 0xff, bytes & 0xff]),
    Buffer.from('prVt')
  ])
  const tail = Buffer.concat([Buffer.alloc(4), image.subarray(33), Buffer.from(`\r\n--${boundary}--\r\n`)])
  const before = rss()
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, rss()) }, 20)
  const started = performance.now()
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/api/upload`, {
      method: 'POST',
      headers: { authorization, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + bytes + tail.length }
    }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    const chunk = Buffer.alloc(1024 * 1024, 0x42)
    let sent = 0
    const write = () => {
      while (sent < bytes) {
        const piece = sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent)
        sent += piece.length
        if (!req.write(piece)) return req.once('drain', write)
      }
      req.end(tail)
    }
    req.write(head)
    write()
  })
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  return { '200 MB upload status': status, 'MB/s': (bytes / 1e6 / seconds).toFixed(1), 'RSS before MB': before.toFixed(1), 'RSS peak MB': peak.toFixed(1), 'RSS growth MB': (peak - before).toFixed(1) }
}
