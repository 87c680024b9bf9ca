#!/usr/bin/env node
// Runs `prisma generate` without letting the Prisma CLI download a schema-engine
// binary (there may be no network, and generate never uses the engine anyway).
// Used as the npm `postinstall` script.
import { spawnSync } from 'node:child_process'
import console from 'node:console'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js')
const generated = join(root, 'src', 'generated', 'prisma')

if (!existsSync(cli)) {
  // Production install without dev dependencies: keep the committed/built client.
  if (existsSync(generated)) process.exit(0)
  console.error(
    'prisma-generate: the prisma CLI is not installed (node_modules/prisma) and ' +
      'src/generated/prisma does not exist. Install dev dependencies and run `npm run postinstall`.'
  )
  process.exit(1)
}

const env = {
  ...process.env,
  // Any existing file stops the CLI from trying to download the engine binary.
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1'
}

const result = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' })

if (result.error) {
  console.error(`prisma-generate: could not run the prisma CLI: ${result.error.message}`)
  process.exit(1)
}
if (result.status !== 0) {
  console.error(
    `prisma-generate: \`prisma generate\` failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`}).`
  )
  process.exit(result.status || 1)
}
