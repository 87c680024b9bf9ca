// Two builds of the app under the same load, alternately (A B, then B A), to judge a change on a machine
// too noisy for a single run of the suite to tell a few percent: the suite compares the app with a floor,
// this compares the app with itself before the change.
//
//   npm run build && mkdir -p bench/builds/before && cp -r dist bench/builds/before/   # then change things
//   npx tsx bench/ab.ts --before bench/builds/before --scenario upload [--rounds 6] [--seconds 4]
//
// Scenarios as in the suite: health, reject, list, metadata, download, upload (1 MB, 10 connections), and
// upload-10mb (4 connections). The other build sits inside the repository (bench/builds/ is ignored) so
// that its imports resolve; both apply the current prisma/migrations. It prints each measurement, then
// B ÷ A for req/s and for the server's CPU time per request.
import { join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type autocannon from 'autocannon'
import { createIssuer } from '../test/issuer.js'
import { multipart, png } from '../test/fixtures.js'
import { buildIfNeeded, cpuMicros, deleteImages, flushDisk, measure, seedImages, startServer, stopAll, type RunningServer } from './lib.js'

const { values: flags } = parseArgs({
  options: {
    before: { type: 'string', default: 'bench/builds/before' },
    scenario: { type: 'string', default: 'upload' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '4' }
  }
})
const beforeEntry = resolve(flags.before, 'dist/src/server.js')
if (!existsSync(beforeEntry)) throw new Error(`no build at ${beforeEntry}: copy dist/ into ${flags.before} first`)
const rounds = Number(flags.rounds)
const seconds = Number(flags.seconds)

buildIfNeeded()
const issuer = await createIssuer()
const authorization = `Bearer ${issuer.sign({ sub: 'bench|ab', scope: 'read:images write:images delete:images' }, { expiresInS: 24 * 3600 })}`
const expired = `Bearer ${issuer.sign({ sub: 'bench|ab', iat: Math.floor(Date.now() / 1000) - 7200 }, { expiresInS: 3600 })}`
const env = { AUTH0_DOMAIN: issuer.issuer, AUTH0_AUDIENCE: issuer.audience, MAX_UPLOAD_BYTES: String(16 * 1024 * 1024) }
const servers = {
  A: await startServer(env, { entry: beforeEntry }),
  B: await startServer(env, { entry: join(import.meta.dirname, '..', 'dist/src/server.js') })
}

// The suite's seed; seeded alike, both servers give the images the same ids.
const seeded = new Set<number>()
let image = ''
for (const server of Object.values(servers)) {
  const images = await seedImages(server.url, authorization)
  for (const { id } of images) seeded.add(id)
  image = images[0]?.url ?? ''
}

const uploadOf = (bytes: number) => {
  const form = multipart([{ name: 'file', filename: 'ab.png', data: png(64, 64, bytes) }])
  return { method: 'POST' as const, body: form.body, headers: { authorization, 'content-type': form.contentType } }
}
const scenarios: Record<string, { path: string, options: Partial<autocannon.Options>, expected: number, uploads?: boolean }> = {
  health: { path: '/', options: { connections: 100, pipelining: 10 }, expected: 200 },
  reject: { path: '/api/images', options: { connections: 100, pipelining: 10, headers: { authorization: expired } }, expected: 401 },
  list: { path: '/api/images', options: { connections: 100, headers: { authorization } }, expected: 200 },
  metadata: { path: `${image}/metadata`, options: { connections: 100, headers: { authorization } }, expected: 200 },
  download: { path: image, options: { connections: 50, headers: { authorization } }, expected: 200 },
  upload: { path: '/api/upload', options: { connections: 10, ...uploadOf(1024 * 1024) }, expected: 201, uploads: true },
  'upload-10mb': { path: '/api/upload', options: { connections: 4, ...uploadOf(10 * 1024 * 1024) }, expected: 201, uploads: true }
}
const scenario = scenarios[flags.scenario] ?? (() => {
  throw new Error(`unknown scenario ${flags.scenario}; choose from ${Object.keys(scenarios).join(', ')}`)
})()

async function run (server: RunningServer, duration: number) {
  const before = cpuMicros(server.pid)
  const result = await measure(flags.scenario, { url: `${server.url}${scenario.path}`, duration, ...scenario.options })
  const after = cpuMicros(server.pid)
  if (scenario.uploads === true) {
    await deleteImages(server.url, authorization, seeded)
    flushDisk()
  }
  const unexpected = result.total - (result.statusCodes[String(scenario.expected)] ?? 0)
  return { requestsPerSecond: result.requestsPerSecond, cpuUs: before === null || after === null ? NaN : (after - before) / result.total, unexpected }
}

const results = { A: [] as Array<Awaited<ReturnType<typeof run>>>, B: [] as Array<Awaited<ReturnType<typeof run>>> }
try {
  for (const server of Object.values(servers)) await run(server, 2) // warm-up
  for (let round = 1; round <= rounds; round++) {
    for (const side of round % 2 === 1 ? ['A', 'B'] as const : ['B', 'A'] as const) {
      const result = await run(servers[side], seconds)
      results[side].push(result)
      console.log(`round ${round} ${side}: ${result.requestsPerSecond.toFixed(1)} req/s, ${result.cpuUs.toFixed(1)} CPU µs/req` +
        (result.unexpected > 0 ? `, ${result.unexpected} unexpected statuses` : ''))
    }
  }
} finally {
  await stopAll()
  await issuer.close()
}
const mean = (side: 'A' | 'B', key: 'requestsPerSecond' | 'cpuUs') => results[side].reduce((sum, result) => sum + result[key], 0) / results[side].length
console.log(`${flags.scenario}: A ${mean('A', 'requestsPerSecond').toFixed(1)} req/s, ${mean('A', 'cpuUs').toFixed(1)} µs/req; ` +
  `B ${mean('B', 'requestsPerSecond').toFixed(1)} req/s, ${mean('B', 'cpuUs').toFixed(1)} µs/req; ` +
  `B ÷ A: req/s ${(mean('B', 'requestsPerSecond') / mean('A', 'requestsPerSecond')).toFixed(3)}, CPU per request ${(mean('B', 'cpuUs') / mean('A', 'cpuUs')).toFixed(3)}`)
