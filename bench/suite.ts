// `npm run bench`: the API's speed against a floor, in one run, on this machine.
//
// Starts a local key set (test/issuer.ts) and the production build (dist/src/server.js) as a child process
// pointed at it, seeds one user with 20 images of ~100 KB, and starts bench/floor.ts, a plain Fastify server
// answering the same shapes with none of the app's work. Each scenario then runs against the floor and the
// app alternately, A B A B (two rounds each, averaged), one server under load at a time, so machine drift
// cancels; the table gives each scenario's ratio to its floor and whether it meets its target.
// It is a measurement, not a test: it exits 0 when a target is missed (and says which), 1 when it cannot run.
//
//   npm run bench                              # every scenario, BENCH_SECONDS (default 10) per measurement
//   npm run bench -- --seconds 3 --only list,upload
//
// Results: bench/results/<ISO timestamp>.json and bench/results/latest.json (gitignored).
// Environment: BENCH_SECONDS, BENCH_TIMEOUT_S (bound on the whole run), JWKS_COOLDOWN_S (passed to the app),
// BENCH_CPU_PROF=DIR (each server writes a V8 CPU profile there when it stops).
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type autocannon from 'autocannon'
import { createIssuer } from '../test/issuer.js'
import { multipart, png } from '../test/fixtures.js'
import { SEED_IMAGES, buildIfNeeded, cpuMicros, deleteImages, flushDisk, measure, seedImages, startScript, startServer, stopAll, type Measured, type RunningServer } from './lib.js'

// The order they run in: reject right after health, the reference for its ratio, so that the machine has drifted least.
const SCENARIOS = ['health', 'reject', 'list', 'metadata', 'download', 'upload', 'kid-flood'] as const
type ScenarioName = typeof SCENARIOS[number]
type Side = 'floor' | 'app'

const ROUNDS = 2
const UPLOAD_BYTES = 1024 * 1024
const MAX_UPLOAD_BYTES = 16 * 1024 * 1024
const KID_POOL = 2000
const SUB = 'bench|suite'
const resultsDir = join(import.meta.dirname, 'results')

// ---------------------------------------------------------------------------------------------- settings

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (flags.help === true) {
  console.log(`npm run bench [-- --seconds N] [--only ${SCENARIOS.join(',')}]
  --seconds N   seconds per measurement (default: BENCH_SECONDS, else 10)
  --only a,b    run only these scenarios (reject also measures health, its reference)`)
  process.exit(0)
}
const seconds = Number(flags.seconds ?? process.env.BENCH_SECONDS ?? 10)
if (!Number.isInteger(seconds) || seconds < 1) fail(`seconds must be a whole number ≥ 1, not "${flags.seconds ?? process.env.BENCH_SECONDS}"`)
// The app is still warming up (JIT) for a few seconds under a new load; half a measurement, at most 5 s.
const warmupS = Math.min(5, Math.max(1, Math.round(seconds / 2)))
const cooldownS = Number(process.env.JWKS_COOLDOWN_S ?? 30)
if (!Number.isInteger(cooldownS) || cooldownS < 0) fail(`JWKS_COOLDOWN_S must be a whole number ≥ 0, not "${process.env.JWKS_COOLDOWN_S}"`)

const requested = flags.only === undefined ? [...SCENARIOS] : flags.only.split(',').map((name) => name.trim()).filter((name) => name !== '')
const unknown = requested.filter((name) => !(SCENARIOS as readonly string[]).includes(name))
if (unknown.length > 0 || requested.length === 0) fail(`unknown scenario ${unknown.join(', ') || '(none given)'}; choose from ${SCENARIOS.join(', ')}`)
const notes: string[] = []
if (requested.includes('reject') && !requested.includes('health')) {
  requested.push('health')
  notes.push('health was added: it is the reference for reject')
}
const selected = SCENARIOS.filter((name) => requested.includes(name))
const hasFloor = (name: ScenarioName) => name !== 'reject' && name !== 'kid-flood'

// The bound on the whole run: every measurement with a margin, plus building, starting, seeding and signing.
const plannedS = selected.reduce((sum, name) => {
  const sides = hasFloor(name) ? 2 : 1
  const warm = name === 'kid-flood' ? 0 : warmupS
  return sum + sides * (warm + ROUNDS * seconds) + sides * (ROUNDS + 1) * 3
}, 0)
const budgetS = Number(process.env.BENCH_TIMEOUT_S ?? Math.ceil(plannedS * 1.5 + 240))

// ---------------------------------------------------------------------------------------------- lifecycle

/** What cleanup() has to close besides the servers (which bench/lib.ts tracks). */
const toClose: { issuer?: Awaited<ReturnType<typeof createIssuer>>, dirs: string[] } = { dirs: [] }
let cleaning: Promise<void> | undefined
/** Stops the servers and the key set, removes temporary folders; runs once, bounded in time. */
function cleanup (): Promise<void> {
  cleaning ??= Promise.race([
    (async () => {
      await stopAll()
      await toClose.issuer?.close()
      for (const dir of toClose.dirs) rmSync(dir, { recursive: true, force: true })
    })(),
    sleep(30_000, undefined, { ref: false })
  ]).then(() => {}, (error: unknown) => { console.error('cleanup failed:', error) })
  return cleaning
}

/** Leaves now: cleans up (at most 30 s) and exits with `code`. A second signal exits at once. */
function abort (reason: string, code: number): void {
  console.error(`\nbench: ${reason}; stopping the servers…`)
  cleanup().finally(() => process.exit(code))
}

function fail (message: string): never {
  console.error(`bench: ${message}`)
  process.exit(1)
}

let signalled = false
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signalled) process.exit(130)
    signalled = true
    abort(`${signal} received`, 130)
  })
}
process.on('uncaughtException', (error) => abort(`uncaught error: ${error.stack ?? String(error)}`, 1))
process.on('unhandledRejection', (error) => abort(`unhandled rejection: ${error instanceof Error ? error.stack : String(error)}`, 1))
const watchdog = setTimeout(() => abort(`the run exceeded its bound of ${budgetS} s (BENCH_TIMEOUT_S)`, 1), budgetS * 1000)

const log = (message: string) => console.error(message)

// ---------------------------------------------------------------------------------------------- set-up

const startedAt = new Date()
const started = performance.now()
const loadStart = loadavg()
log(`bench: ${selected.join(', ')}; ${seconds} s per measurement, ${ROUNDS} rounds, ${warmupS} s warm-up; bounded at ${budgetS} s`)

let buildWarning: string | undefined
try {
  buildIfNeeded()
} catch (error) {
  // Others may have work in progress that does not typecheck; tsc still emits, so measure what it emitted.
  buildWarning = `the build reported errors (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); measuring the emitted dist/ anyway`
  log(`bench: warning: ${buildWarning}`)
}

const issuer = await createIssuer()
toClose.issuer = issuer
const app = await startServer({
  AUTH0_DOMAIN: issuer.issuer,
  AUTH0_AUDIENCE: issuer.audience,
  MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
  JWKS_COOLDOWN_S: String(cooldownS)
})
log(`bench: app (pid ${app.pid}) at ${app.url}, key set at ${issuer.jwksUri}`)

const token = issuer.sign({ sub: SUB, scope: 'read:images write:images delete:images' }, { expiresInS: budgetS + 3600 })
const authorization = `Bearer ${token}`
const nowS = () => Math.floor(Date.now() / 1000)
// Expired an hour ago (beyond any clock tolerance), otherwise perfect: same key, issuer, audience and subject.
const expired = `Bearer ${issuer.sign({ sub: SUB, iat: nowS() - 7200 }, { expiresInS: 3600 })}`

const call = async (base: string, path: string, init: RequestInit = {}) =>
  await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })

async function expectJson<T> (response: Response, status: number, what: string): Promise<T> {
  const text = await response.text()
  if (response.status !== status) throw new Error(`${what} answered ${response.status}, expected ${status}: ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

interface ImageMeta { id: number, size: number, url: string }

const seeded: ImageMeta[] = await seedImages(app.url, authorization)
const seededIds = new Set(seeded.map((image) => image.id))
const image = seeded[0] as ImageMeta
log(`bench: seeded ${seeded.length} images; download and metadata use image ${image.id} (${image.size} bytes)`)

// The floor answers with the app's own answers, so that both put the same bytes on the wire.
const floorDir = mkdtempSync(join(tmpdir(), 'cat-data-floor-'))
toClose.dirs.push(floorDir)
const appList = await expectJson<{ images: unknown[] }>(await call(app.url, '/api/images', { headers: { authorization } }), 200, 'GET /api/images')
if (appList.images.length !== SEED_IMAGES) throw new Error(`the list has ${appList.images.length} images, expected ${SEED_IMAGES}`)
writeFileSync(join(floorDir, 'list.json'), JSON.stringify(appList))
writeFileSync(join(floorDir, 'root.json'), JSON.stringify(await expectJson(await call(app.url, '/'), 200, 'GET /')))
writeFileSync(join(floorDir, 'metadata.json'), JSON.stringify(await expectJson(await call(app.url, `/api/image/${image.id}/metadata`, { headers: { authorization } }), 200, 'GET metadata')))
const downloaded = await call(app.url, image.url, { headers: { authorization } })
const imageBytes = Buffer.from(await downloaded.arrayBuffer())
if (downloaded.status !== 200 || imageBytes.length !== image.size) throw new Error(`download answered ${downloaded.status} with ${imageBytes.length} bytes, expected 200 with ${image.size}`)
writeFileSync(join(floorDir, 'image.png'), imageBytes)
const floor = await startScript(join(import.meta.dirname, 'floor.ts'), { FLOOR_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) }, { dirEnv: 'FLOOR_DIR', dataDir: floorDir })
log(`bench: floor (pid ${floor.pid}) at ${floor.url}`)

const upload = multipart([{ name: 'file', filename: 'bench-1mb.png', type: 'image/png', data: png(64, 64, UPLOAD_BYTES) }])

let kidPool: string[] = []
if (selected.includes('kid-flood')) {
  const signing = performance.now()
  kidPool = Array.from({ length: KID_POOL }, () => `Bearer ${issuer.sign({ sub: SUB }, { kid: randomUUID(), expiresInS: budgetS + 3600 })}`)
  log(`bench: signed ${KID_POOL} tokens with unknown kids in ${((performance.now() - signing) / 1000).toFixed(1)} s`)
}

// ---------------------------------------------------------------------------------------------- scenarios

type Target =
  | { kind: 'none' }
  | { kind: 'floor', min: number }
  | { kind: 'health', min: number }
  | { kind: 'fetches' }

interface Scenario {
  name: ScenarioName
  describe: string
  connections: number
  pipelining: number
  expectedStatus: number
  target: Target
  /** Which bytes count for MB/s: the responses' (download) or the requests' bodies (upload). */
  bytes?: 'response' | 'request'
  /** The request, the same for the floor and the app (the floor ignores the token). */
  request: Pick<autocannon.Options, 'method' | 'headers' | 'body' | 'requests' | 'expectBody'> & { path: string }
  /** Checks and tidies after each measurement (warm-ups included). */
  after?: (side: Side) => Promise<unknown>
}

/** Responses of kid-flood that said why they were refused, as the contract words it. */
let unknownKidAnswers = 0

const scenarios: Record<ScenarioName, Scenario> = {
  health: {
    name: 'health',
    describe: 'GET / (no token), pipelining 10',
    connections: 100,
    pipelining: 10,
    expectedStatus: 200,
    target: { kind: 'none' },
    request: { path: '/' }
  },
  list: {
    name: 'list',
    describe: 'GET /api/images, 20 images',
    connections: 100,
    pipelining: 1,
    expectedStatus: 200,
    target: { kind: 'floor', min: 0.6 },
    request: { path: '/api/images', headers: { authorization } }
  },
  metadata: {
    name: 'metadata',
    describe: 'GET /api/image/:id/metadata',
    connections: 100,
    pipelining: 1,
    expectedStatus: 200,
    target: { kind: 'floor', min: 0.6 },
    request: { path: `/api/image/${image.id}/metadata`, headers: { authorization } }
  },
  download: {
    name: 'download',
    describe: `GET /api/image/:id, ${image.size} bytes`,
    connections: 50,
    pipelining: 1,
    expectedStatus: 200,
    target: { kind: 'floor', min: 0.8 },
    bytes: 'response',
    request: { path: image.url, headers: { authorization } }
  },
  upload: {
    name: 'upload',
    describe: `POST /api/upload, ${upload.body.length} bytes multipart`,
    connections: 10,
    pipelining: 1,
    expectedStatus: 201,
    target: { kind: 'floor', min: 0.7 },
    bytes: 'request',
    request: { path: '/api/upload', method: 'POST', headers: { authorization, 'content-type': upload.contentType }, body: upload.body },
    after: async (side) => {
      const left = side === 'app' ? await removeAppUploads() : removeFloorUploads()
      flushDisk()
      return left
    }
  },
  // Its target is a share of health's rate, so it runs under health's load (pipelining 10): the ratio is then
  // the cost of saying no against the cost of the cheapest answer, not pipelined against unpipelined traffic.
  reject: {
    name: 'reject',
    describe: 'GET /api/images with an expired token, pipelining 10 (as health)',
    connections: 100,
    pipelining: 10,
    expectedStatus: 401,
    target: { kind: 'health', min: 0.8 },
    request: { path: '/api/images', headers: { authorization: expired } }
  },
  'kid-flood': {
    name: 'kid-flood',
    describe: `GET /api/images, a token with a random unknown kid per request (pool of ${KID_POOL})`,
    connections: 100,
    pipelining: 1,
    expectedStatus: 401,
    target: { kind: 'fetches' },
    request: {
      path: '/api/images',
      requests: [{
        setupRequest: (request) => {
          request.headers = { ...request.headers, authorization: kidPool[Math.floor(Math.random() * kidPool.length)] }
          return request
        },
        onResponse: (status, body) => {
          if (status === 401 && body.includes('Token signing key is unknown')) unknownKidAnswers++
        }
      }]
    }
  }
}

/**
 * Deletes what the upload scenario stored, so the store is as the run found it, then checks the folder:
 * just the seeded images and nothing in progress, or it deletes and looks again (at most ~20 times).
 */
async function removeAppUploads () {
  const dir = join(app.dataDir, 'uploads')
  let deleted = 0
  let failedDeletes = 0
  let files = -1
  let incoming = -1
  for (let attempt = 0; attempt < 20; attempt++) {
    const pass = await deleteImages(app.url, authorization, seededIds)
    deleted += pass.deleted
    failedDeletes += pass.failed
    files = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile()).length
    incoming = readdirSync(join(dir, '.incoming')).length
    if (failedDeletes > 0 || (files === SEED_IMAGES && incoming === 0)) break
    await sleep(250)
  }
  const left = { deleted, failedDeletes, filesLeft: files, unfinishedUploads: incoming }
  if (failedDeletes > 0 || files !== SEED_IMAGES || incoming !== 0) log(`bench: warning: after the upload clean-up ${JSON.stringify(left)}, expected ${SEED_IMAGES} files`)
  cleanups.push(left)
  return left
}

function removeFloorUploads () {
  const dir = join(floor.dataDir, 'uploads')
  const names = readdirSync(dir)
  for (const name of names) rmSync(join(dir, name), { force: true })
  return { deleted: names.length }
}
const cleanups: unknown[] = []

// ---------------------------------------------------------------------------------------------- measuring

interface Run extends Measured {
  scenario: ScenarioName
  side: Side
  round: number | 'warm-up'
  unexpected: number
  keySetFetches: number
  /** The server process's CPU time per answered request, in µs (null where /proc is missing). */
  cpuUsPerRequest: number | null
  startedAt: string
}
const runs: Run[] = []
const totalMeasurements = selected.reduce((sum, name) => sum + (hasFloor(name) ? 2 : 1) * ROUNDS, 0)
let done = 0

async function run (scenario: Scenario, side: Side, round: Run['round'], duration: number): Promise<Run> {
  const server: RunningServer = side === 'app' ? app : floor
  const { path, ...request } = scenario.request
  const fetchesBefore = issuer.fetches
  const at = new Date().toISOString()
  const cpuBefore = cpuMicros(server.pid)
  const measured = await measure(`${scenario.name} ${side}`, {
    url: `${server.url}${path}`,
    connections: scenario.connections,
    pipelining: scenario.pipelining,
    duration,
    timeout: 10,
    ...request
  })
  const cpuAfter = cpuMicros(server.pid)
  const expectedCount = measured.statusCodes[String(scenario.expectedStatus)] ?? 0
  const answered = Object.values(measured.statusCodes).reduce((sum, count) => sum + count, 0)
  const result: Run = {
    ...measured,
    scenario: scenario.name,
    side,
    round,
    unexpected: scenario.expectedStatus === 401 ? answered - expectedCount : measured.non2xx,
    keySetFetches: issuer.fetches - fetchesBefore,
    cpuUsPerRequest: cpuBefore === null || cpuAfter === null || measured.total === 0 ? null : (cpuAfter - cpuBefore) / measured.total,
    startedAt: at
  }
  if (scenario.bytes === 'request') result.mbPerSecond = result.requestsPerSecond * upload.body.length / 1e6
  runs.push(result)
  await scenario.after?.(side)
  if (round !== 'warm-up') {
    done++
    log(`  [${done}/${totalMeasurements}] ${scenario.name.padEnd(9)} ${side.padEnd(5)} round ${round}: ${Math.round(result.requestsPerSecond)} req/s, ` +
      `p99 ${result.p99} ms${result.unexpected + result.errors > 0 ? `, ${result.unexpected} unexpected statuses, ${result.errors} errors` : ''}`)
  }
  await sleep(500) // let sockets close and the servers settle before the next measurement
  return result
}

/** One request through fetch before measuring: the scenario is answered as it should be by both servers. */
async function preflight (scenario: Scenario, side: Side) {
  const server = side === 'app' ? app : floor
  const { path, method, headers, body } = scenario.request
  const response = await call(server.url, path, { method: method ?? 'GET', headers: headers as Record<string, string> | undefined, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  if (response.status !== scenario.expectedStatus) throw new Error(`${scenario.name} on the ${side} answered ${response.status}, expected ${scenario.expectedStatus}: ${text.slice(0, 300)}`)
  await scenario.after?.(side)
  return text
}

let kidFlood: { fetches: number, spanS: number, windows: number | null, unknownKidAnswers: number } | undefined
for (const name of selected) {
  const scenario = scenarios[name]
  const sides: Side[] = hasFloor(name) ? ['floor', 'app'] : ['app']
  log(`bench: ${name}: ${scenario.describe}, ${scenario.connections} connections`)
  if (name === 'reject') {
    // Said no for the right reason, every time: the whole body is checked against this one.
    const body = await preflight(scenario, 'app')
    if (!body.includes('Token has expired')) throw new Error(`reject answered ${body}`)
    scenario.request.expectBody = body
  } else if (name !== 'kid-flood') {
    for (const side of sides) await preflight(scenario, side)
  }
  // No warm-up for kid-flood: the first refused kid after the cooldown is the fetch we want to see counted.
  if (name !== 'kid-flood') for (const side of sides) await run(scenario, side, 'warm-up', warmupS)
  const fetchesBefore = issuer.fetches
  unknownKidAnswers = 0
  const spanStart = performance.now()
  for (let round = 1; round <= ROUNDS; round++) for (const side of sides) await run(scenario, side, round, seconds)
  if (name === 'kid-flood') {
    // Fetches a cooldown of C seconds allows over S seconds: one at the start, then one per full C.
    const spanS = (performance.now() - spanStart) / 1000
    kidFlood = { fetches: issuer.fetches - fetchesBefore, spanS, windows: cooldownS > 0 ? Math.floor(spanS / cooldownS) + 1 : null, unknownKidAnswers }
  }
}

// ---------------------------------------------------------------------------------------------- results

interface Summary {
  requestsPerSecond: number
  p50: number
  p99: number
  mbPerSecond: number
  unexpected: number
  errors: number
  mismatches: number
  requests: number
  statusCodes: Record<string, number>
  cpuUsPerRequest: number | null
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length
function summarise (name: ScenarioName, side: Side): Summary | null {
  const measured = runs.filter((r) => r.scenario === name && r.side === side && r.round !== 'warm-up')
  if (measured.length === 0) return null
  const statusCodes: Record<string, number> = {}
  for (const r of measured) for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count
  return {
    requestsPerSecond: mean(measured.map((r) => r.requestsPerSecond)),
    p50: mean(measured.map((r) => r.p50)),
    p99: mean(measured.map((r) => r.p99)),
    mbPerSecond: mean(measured.map((r) => r.mbPerSecond)),
    unexpected: measured.reduce((sum, r) => sum + r.unexpected, 0),
    errors: measured.reduce((sum, r) => sum + r.errors, 0),
    mismatches: measured.reduce((sum, r) => sum + r.mismatches, 0),
    requests: measured.reduce((sum, r) => sum + r.total, 0),
    statusCodes,
    cpuUsPerRequest: measured.every((r) => r.cpuUsPerRequest !== null) ? mean(measured.map((r) => r.cpuUsPerRequest as number)) : null
  }
}

const healthApp = summarise('health', 'app')
const results = selected.map((name) => {
  const scenario = scenarios[name]
  const appSummary = summarise(name, 'app') as Summary
  const floorSummary = hasFloor(name) ? summarise(name, 'floor') : null
  const reasons: string[] = []
  const failures = appSummary.unexpected + appSummary.errors
  if (appSummary.unexpected > 0) reasons.push(`${appSummary.unexpected} unexpected statuses`)
  if (appSummary.errors > 0) reasons.push(`${appSummary.errors} connection errors/timeouts`)
  if (appSummary.mismatches > 0) reasons.push(`${appSummary.mismatches} ${scenario.expectedStatus} for another reason`)
  let ratio: number | null = null
  let reference: number | null = null
  let target: string
  let invalid: string | undefined
  const { target: goal } = scenario
  if (goal.kind === 'floor' || (goal.kind === 'none' && floorSummary !== null)) {
    reference = floorSummary?.requestsPerSecond ?? null
    ratio = reference === null ? null : appSummary.requestsPerSecond / reference
    if (floorSummary !== null && floorSummary.unexpected + floorSummary.errors > 0) {
      invalid = `the floor itself had ${floorSummary.unexpected} unexpected statuses and ${floorSummary.errors} errors`
    }
  }
  if (goal.kind === 'floor') {
    target = `≥ ${goal.min.toFixed(2)} of floor`
    if (ratio !== null && ratio < goal.min) reasons.push(`ratio ${ratio.toFixed(2)} < ${goal.min.toFixed(2)}`)
  } else if (goal.kind === 'health') {
    reference = healthApp?.requestsPerSecond ?? null
    ratio = reference === null ? null : appSummary.requestsPerSecond / reference
    target = `≥ ${goal.min.toFixed(2)} of health`
    if (ratio !== null && ratio < goal.min) reasons.push(`ratio ${ratio.toFixed(2)} < ${goal.min.toFixed(2)} of health`)
  } else if (goal.kind === 'fetches' && kidFlood !== undefined) {
    target = `≤ 1 fetch per ${cooldownS} s window`
    if (kidFlood.windows !== null && kidFlood.fetches > kidFlood.windows) reasons.push(`${kidFlood.fetches} key-set fetches in ${kidFlood.windows} window(s)`)
    // Counted as bodies complete, so a few answers in flight at the end may be missing from either count.
    const refused = appSummary.statusCodes['401'] ?? 0
    if (kidFlood.unknownKidAnswers < refused * 0.99) reasons.push(`${refused - kidFlood.unknownKidAnswers} of ${refused} 401s did not say the key is unknown`)
  } else {
    target = 'only 2xx'
  }
  const verdict = invalid !== undefined ? 'invalid' : reasons.length === 0 ? 'pass' : 'FAIL'
  return { name, scenario, app: appSummary, floor: floorSummary, reference, ratio, target, verdict, reasons, invalid, failures }
})

const fixed = (value: number, digits: number) => Number(value.toFixed(digits))
function cpuColumn (app: Summary, floor: Summary | null): string {
  if (app.cpuUsPerRequest === null) return ''
  const own = String(Math.round(app.cpuUsPerRequest))
  return floor?.cpuUsPerRequest == null ? own : `${own} / ${Math.round(floor.cpuUsPerRequest)}`
}
console.log(`\nCat Data API bench: ${seconds} s × ${ROUNDS} rounds per side, floor and app alternating; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`)
console.table(results.map((r) => ({
  scenario: r.name,
  'req/s': Math.round(r.app.requestsPerSecond),
  'p50 ms': fixed(r.app.p50, 1),
  'p99 ms': fixed(r.app.p99, 1),
  'non-2xx': r.app.unexpected,
  errors: r.app.errors,
  'MB/s': r.scenario.bytes === undefined ? '' : fixed(r.app.mbPerSecond, 1),
  'floor req/s': r.reference === null ? '' : Math.round(r.reference),
  'CPU µs/req': cpuColumn(r.app, r.floor),
  ratio: r.name === 'kid-flood' && kidFlood !== undefined
    ? `${kidFlood.fetches} fetch / ${kidFlood.windows ?? '∞'} window`
    : r.ratio === null ? '' : fixed(r.ratio, 2),
  target: r.target,
  result: r.verdict
})))
console.log('non-2xx: responses other than the expected status (401 for reject and kid-flood); reject\'s "floor req/s" is the app\'s health rate.')
console.log('CPU µs/req: the server process\'s CPU time (user + system) per answered request, app / floor; steadier than req/s on a shared machine.')
if (kidFlood !== undefined) {
  console.log(`kid-flood: ${kidFlood.fetches} key-set fetch(es) over ${kidFlood.spanS.toFixed(1)} s with JWKS_COOLDOWN_S=${cooldownS} (at most ${kidFlood.windows ?? '∞'} allowed); ` +
    `${kidFlood.unknownKidAnswers} answers said "Token signing key is unknown"`)
}
const missed = results.filter((r) => r.verdict !== 'pass')
if (missed.length === 0) console.log('All targets met.')
else for (const r of missed) console.log(`${r.verdict === 'invalid' ? 'invalid' : 'missed'}: ${r.name}: ${[r.invalid, ...r.reasons].filter(Boolean).join('; ')}`)
for (const note of [...notes, ...(buildWarning === undefined ? [] : [buildWarning])]) console.log(`note: ${note}`)

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}
const report = {
  date: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  totalSeconds: fixed((performance.now() - started) / 1000, 1),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    availableParallelism: availableParallelism(),
    node: process.version,
    platform: `${process.platform} ${release()}`,
    memoryGB: fixed(totalmem() / 2 ** 30, 1),
    loadAverageAtStart: loadStart.map((value) => fixed(value, 2)),
    loadAverageAtEnd: loadavg().map((value) => fixed(value, 2))
  },
  git: { commit: git('rev-parse', 'HEAD'), uncommittedFiles: git('status', '--porcelain')?.split('\n').filter(Boolean).length ?? null },
  settings: {
    durationSeconds: seconds,
    warmupSeconds: warmupS,
    rounds: ROUNDS,
    order: 'per scenario: warm-up floor, warm-up app, then floor, app, floor, app (kid-flood: app only, no warm-up)',
    scenarios: selected,
    jwksCooldownS: cooldownS,
    seededImages: SEED_IMAGES,
    downloadBytes: image.size,
    uploadBodyBytes: upload.body.length,
    kidPoolSize: selected.includes('kid-flood') ? KID_POOL : 0,
    boundSeconds: budgetS
  },
  notes: [...notes, ...(buildWarning === undefined ? [] : [buildWarning])],
  results: results.map((r) => ({
    scenario: r.name,
    request: r.scenario.describe,
    connections: r.scenario.connections,
    pipelining: r.scenario.pipelining,
    expectedStatus: r.scenario.expectedStatus,
    app: r.app,
    floor: r.floor,
    reference: r.scenario.target.kind === 'health' ? 'health (app)' : r.floor === null ? null : 'floor',
    referenceRequestsPerSecond: r.reference,
    ratio: r.ratio,
    target: r.target,
    result: r.verdict,
    reasons: r.reasons,
    ...(r.invalid === undefined ? {} : { invalid: r.invalid }),
    ...(r.name === 'kid-flood' ? { keySet: kidFlood } : {})
  })),
  missed: missed.map((r) => r.name),
  uploadCleanups: cleanups,
  measurements: runs.map(({ name: _name, ...r }) => r)
}
mkdirSync(resultsDir, { recursive: true })
const file = join(resultsDir, `${startedAt.toISOString().replace(/:/g, '-')}.json`)
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
console.log(`results: ${file} (and bench/results/latest.json); ${report.totalSeconds} s in all`)

clearTimeout(watchdog)
await cleanup()
process.exit(0)
