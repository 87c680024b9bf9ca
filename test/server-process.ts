import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const root = join(import.meta.dirname, '..')

export interface ServerProcess {
  url: string
  child: ChildProcess
  /** Everything the server has written to stdout so far. */
  output: () => string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
}

async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/**
 * The real server entry in a child process (the sources through tsx, the build with `built: true`, or
 * another server script as `entry`), on a free loopback port given as PORT, resolved once `GET /` answers.
 * Shared by the tests that kill or signal it and by the benchmarks.
 */
export async function startServerProcess (env: Record<string, string>, options: { built?: boolean, entry?: string, cwd?: string, nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const port = await freePort()
  const entry = options.entry ?? (options.built === true ? join(root, 'dist/src/server.js') : join(root, 'src/server.ts'))
  const args = [...options.nodeArgs ?? [], ...entry.endsWith('.ts') ? ['--import=tsx', entry] : [entry]]
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { exitCode = code; resolve(code) }))
  const url = `http://127.0.0.1:${port}`
  for (let waited = 0; ; waited += 50) {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode}: ${output}`)
    if (waited > 60_000) throw new Error(`server did not answer within 60 s: ${output}`)
    if (await fetch(`${url}/`).then((response) => response.ok, () => false)) break
    await sleep(50)
  }
  return { url, child, output: () => output, exited }
}
