// Prints a token from the built-in development issuer: npm run token -- [--sub ID] [--scope "a b"] [--expires SECONDS]
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { loadOrCreateDevKey, mintDevToken, ALL_SCOPES } from '../src/auth/dev-issuer.js'
import { DEV_AUDIENCE } from '../src/config.js'

try {
  process.loadEnvFile()
} catch {
  // No .env: the defaults apply.
}

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'dev|local-user' },
    scope: { type: 'string', default: ALL_SCOPES.join(' ') },
    expires: { type: 'string', default: '3600' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help) {
  console.log('usage: npm run token -- [--sub ID] [--scope "read:images write:images"] [--expires SECONDS]')
  process.exit(0)
}
if ((process.env.AUTH0_DOMAIN ?? '') !== '') {
  console.error('AUTH0_DOMAIN is set, so the API trusts Auth0, not the development issuer: get a token from your tenant (see README).')
  process.exit(1)
}
const expiresInS = Number(values.expires)
if (!Number.isInteger(expiresInS) || expiresInS <= 0) {
  console.error('--expires must be a whole number of seconds')
  process.exit(1)
}

const key = await loadOrCreateDevKey(resolve(process.env.DATA_DIR ?? './data'))
console.log(mintDevToken(key, {
  audience: process.env.AUTH0_AUDIENCE || DEV_AUDIENCE,
  sub: values.sub,
  scopes: values.scope.split(' ').filter((scope) => scope !== ''),
  expiresInS
}))
