import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { startServerProcess } from '../test/server-process.js'
import { multipart, png } from '../test/fixtures.js'

const root = join(import.meta.dirname, '..')

/** Newest modification time of the files under `dir` whose names end with `suffix` (0 when none). */
function newest (dir: string, suffix: string): number {
  if (!existsSync(join(root, dir))) return 0
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .reduce((latest, entry) => Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0)
}

/**
 * Builds dist/ when any source is newer than the last build. The build is incremental and rewrites only the
 * outputs of changed sources, so "the last build" is the newest file in dist/, not dist/src/server.js.
 */
export function buildIfNeeded (): void {
  const built = join(root, 'dist/src/server.js')
  const sources = Math.max(newest('src', '.ts'), newest('plugins', '.ts'), newest('routes', '.ts'))
  if (existsSync(built) && Math.max(newest('dist', '.js'), newest('dist', '.tsbuildinfo')) >= sources) return
  console.error('building…')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
}

/**
 * Writes every dirty page to disk (sync(1)). Run after deleting what an upload measurement stored: the
 * kernel writes those pages back seconds later, and would otherwise do it during the next measurement.
 */
export function flushDisk (): void {
  execFileSync('sync')
}

export interface RunningServer {
  url: string
  dataDir: string
  pid: number
  /** Stops the process (SIGTERM, then SIGKILL after `killAfterMs`) and removes its data folder; safe to call twice. */
  stop: () => Promise<void>
}

/** Every server started here and not yet stopped, so that stopAll() can clean up after an error or a signal. */
const running = new Set<RunningServer>()
/** Data folders of servers still starting (not yet in `running`). */
const starting = new Set<string>()

/** Stops every server this module started that is still running, and removes the folders of those still starting. */
export async function stopAll (): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()))
  for (const dir of starting) rmSync(dir, { recursive: true, force: true })
}

/**
 * A module preloaded into each child (through NODE_OPTIONS): when its parent dies without stopping it
 * (kill -9 of the bench), the child is re-parented and SIGTERMs itself instead of lingering. An unref'd timer
 * checked once a second: it costs nothing measurable and never keeps the process alive.
 */
export const ORPHAN_GUARD = `--import=data:text/javascript,${encodeURIComponent(
  'const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,"SIGTERM")},1000).unref()'
)}`

/** BENCH_CPU_PROF=DIR: every server writes a V8 CPU profile into DIR when it exits (open it in Chrome's DevTools). */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF === undefined || process.env.BENCH_CPU_PROF === ''
  ? []
  : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]

function stopper (child: import('node:child_process').ChildProcess, exited: Promise<unknown>, dataDir: string, killAfterMs: number) {
  let stopping: Promise<void> | undefined
  return (self: RunningServer) => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        await exited
        clearTimeout(timer)
      }
      rmSync(dataDir, { recursive: true, force: true })
      running.delete(self)
    })()
    return stopping
  }
}

/** A server child process that stopAll() ends and whose data folder goes with it. */
async function startTracked (env: Record<string, string>, options: { built?: boolean, entry?: string, cwd: string, dataDir: string, killAfterMs: number }): Promise<RunningServer> {
  const { dataDir } = options
  starting.add(dataDir)
  let server: Awaited<ReturnType<typeof startServerProcess>>
  try {
    server = await startServerProcess({ NODE_OPTIONS: ORPHAN_GUARD, ...env }, { built: options.built, entry: options.entry, cwd: options.cwd, nodeArgs: PROFILE_ARGS })
  } catch (error) {
    // A server that never answered is still running: its guard ends it once we exit; the folder goes now.
    rmSync(dataDir, { recursive: true, force: true })
    throw error
  } finally {
    starting.delete(dataDir)
  }
  const stop = stopper(server.child, server.exited, dataDir, options.killAfterMs)
  const handle: RunningServer = { url: server.url, dataDir, pid: server.child.pid ?? 0, stop: () => stop(handle) }
  running.add(handle)
  return handle
}

/**
 * Starts the production build as a child process on a free port with its own data folder; `entry`: another
 * build's server.js (bench/ab.ts), which must sit inside the repository so that its imports resolve.
 */
export async function startServer (env: Record<string, string>, options: { entry?: string } = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cat-data-bench-'))
  return startTracked({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${join(dataDir, 'bench.db')}`,
    UPLOAD_DIR: join(dataDir, 'uploads'),
    ...env
  }, {
    built: true,
    entry: options.entry,
    cwd: dataDir,
    dataDir,
    // The server's own grace period (SHUTDOWN_GRACE_MS, 10 s by default) plus a margin before SIGKILL.
    killAfterMs: Number(env.SHUTDOWN_GRACE_MS ?? 10_000) + 5_000
  })
}

/** The images the benches seed: 20 of ~100 KB, each a different size. */
export const SEED_IMAGES = 20
const SEED_BYTES = 100 * 1024

/** Uploads the seed images in order (so that servers seeded alike give them the same ids) and returns them. */
export async function seedImages (url: string, authorization: string): Promise<Array<{ id: number, size: number, url: string }>> {
  const seeded = []
  for (let i = 0; i < SEED_IMAGES; i++) {
    const form = multipart([{ name: 'file', filename: `seed-${i}.png`, type: 'image/png', data: png(64, 64, SEED_BYTES + i * 17) }])
    const response = await fetch(`${url}/api/upload`, {
      method: 'POST',
      headers: { authorization, 'content-type': form.contentType },
      body: form.body,
      signal: AbortSignal.timeout(30_000)
    })
    const text = await response.text()
    if (response.status !== 201) throw new Error(`seeding upload ${i} answered ${response.status}, expected 201: ${text.slice(0, 300)}`)
    seeded.push(JSON.parse(text) as { id: number, size: number, url: string })
  }
  return seeded
}

/**
 * Deletes the caller's images but those in `keep`, through the API, 8 at a time. Uploads that were still
 * being committed when the load stopped appear a moment later, so it lists again until two listings in a
 * row find nothing (at most 60). Returns how many deletes answered 204 and how many did not.
 */
export async function deleteImages (url: string, authorization: string, keep: ReadonlySet<number> = new Set()): Promise<{ deleted: number, failed: number }> {
  const call = async (path: string, init: RequestInit = {}) => await fetch(`${url}${path}`, { ...init, headers: { authorization }, signal: AbortSignal.timeout(30_000) })
  let deleted = 0
  let failed = 0
  for (let listings = 0, quiet = 0; quiet < 2 && listings < 60; listings++) {
    const extra: number[] = []
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const listing = await call(`/api/images?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`)
      if (listing.status !== 200) throw new Error(`listing for clean-up answered ${listing.status}`)
      const page = await listing.json() as { images: Array<{ id: number }>, nextCursor: string | null }
      for (const { id } of page.images) if (!keep.has(id)) extra.push(id)
      cursor = page.nextCursor
    }
    quiet = extra.length === 0 ? quiet + 1 : 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let id = extra.pop(); id !== undefined; id = extra.pop()) {
        const response = await call(`/api/image/${id}`, { method: 'DELETE' })
        await response.body?.cancel()
        if (response.status === 204) deleted++
        else failed++
      }
    }))
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { deleted, failed }
}

/** Runs a TypeScript server script (through tsx) that listens on PORT, with `dataDir` passed as `<dirEnv>`. */
export async function startScript (script: string, env: Record<string, string>, options: { dirEnv: string, dataDir: string }): Promise<RunningServer> {
  return startTracked({ [options.dirEnv]: options.dataDir, ...env }, { entry: script, cwd: root, dataDir: options.dataDir, killAfterMs: 5_000 })
}

/**
 * CPU time (user + system) a process has used, in µs, from /proc (Linux; clock ticks assumed at the usual
 * 100 Hz); null elsewhere. Over a measurement, divided by the requests answered, it is the server's cost of
 * a request, which a shared machine disturbs far less than it disturbs req/s.
 */
export function cpuMicros (pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return null
  }
}

export interface Measured {
  name: string
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  mbPerSecond: number
  /** Responses by status code. */
  statusCodes: Record<string, number>
  /** Responses whose body differed from `expectBody`, when one was given. */
  mismatches: number
  /** Requests completed, and over how many seconds. */
  total: number
  durationS: number
  latencyMean: number
  latencyMax: number
}

export async function measure (name: string, options: autocannon.Options): Promise<Measured> {
  const result = await autocannon({ duration: Number(process.env.BENCH_SECONDS ?? 5), ...options })
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]))
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    // autocannon counts timeouts among the errors already.
    errors: result.errors,
    mbPerSecond: result.throughput.average / 1e6,
    statusCodes,
    mismatches: result.mismatches,
    total: result.requests.total,
    durationS: result.duration,
    latencyMean: result.latency.mean,
    latencyMax: result.latency.max
  }
}

export function printTable (rows: Measured[]): void {
  console.table(rows.map((row) => ({
    scenario: row.name,
    'req/s': Math.round(row.requestsPerSecond),
    'p50 ms': row.p50,
    'p99 ms': row.p99,
    non2xx: row.non2xx,
    errors: row.errors,
    'MB/s': Number(row.mbPerSecond.toFixed(1))
  })))
}
