// Compiles to dist/ incrementally, first removing outputs whose source is gone: autoload loads every
// file under dist/plugins and dist/routes, so a stale one would still run.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import process from 'node:process'

const root = join(import.meta.dirname, '..')
const dist = join(root, 'dist')
let removed = 0
if (existsSync(dist)) {
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    const match = /^(.*)\.js(\.map)?$/.exec(entry.name)
    if (!entry.isFile() || match === null) continue
    const source = join(root, relative(dist, entry.parentPath), `${match[1]}.ts`)
    if (!existsSync(source)) {
      rmSync(join(entry.parentPath, entry.name))
      removed++
    }
  }
}
if (removed > 0) {
  // The incremental build info would otherwise believe the outputs are still there.
  rmSync(join(dist, '.tsbuildinfo'), { force: true })
}
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
