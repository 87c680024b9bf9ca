import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The repository root, found the same way from `src/` (tsx) and from `dist/src/` (built). */
function findRoot (from: string): string {
  let dir = from
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'prisma'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no project root above ${from}`)
    dir = parent
  }
  return dir
}

export const projectRoot = findRoot(import.meta.dirname)
export const migrationsDir = join(projectRoot, 'prisma', 'migrations')
export const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
/** Where the docs page is served (@fastify/swagger-ui). */
export const DOCS_PATH = '/docs'
