import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { startServerProcess } from '../test/server-process.js'

const root = join(import.meta.dirname, '..')

/** Builds dist/ when any source is newer than the last build. */
export function buildIfNeeded (): void {
  const built = join(root, 'dist/src/server.js')
  const newest = (dir: string): number => readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .reduce((latest, entry) => Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0)
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(newest('src'), newest('plugins'), newest('routes'))) return
  console.error('building…')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
}

export interface RunningServer {
  url: string
  dataDir: string
  pid: number
  stop: () => Promise<void>
}

/** Starts the production build as a child process on a free port with its own data folder. */
export async function startServer (env: Record<string, string>): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cat-data-bench-'))
  const server = await startServerProcess({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${join(dataDir, 'bench.db')}`,
    UPLOAD_DIR: join(dataDir, 'uploads'),
    ...env
  }, { built: true, cwd: dataDir })
  return {
    url: server.url,
    dataDir,
    pid: server.child.pid ?? 0,
    stop: async () => {
      server.child.kill('SIGTERM')
      await server.exited
      rmSync(dataDir, { recursive: true, force: true })
    }
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
}

export async function measure (name: string, options: autocannon.Options): Promise<Measured> {
  const result = await autocannon({ duration: Number(process.env.BENCH_SECONDS ?? 5), ...options })
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    mbPerSecond: result.throughput.average / 1e6
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
