import { Type, type Static } from 'typebox'

/** Every environment variable the API reads, with its default. `.env.example` and the README mirror this. */
export const envSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), { default: 'info' }),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DATABASE_URL: Type.String({ default: 'file:./data/cat-data.db', pattern: '^file:.+' }),
  UPLOAD_DIR: Type.String({ default: './data/uploads', minLength: 1 }),
  MAX_UPLOAD_BYTES: Type.Integer({ default: 10 * 1024 * 1024, minimum: 1 }),
  AUTH0_DOMAIN: Type.String({ default: '' }),
  AUTH0_AUDIENCE: Type.String({ default: '' }),
  AUTH0_ISSUER: Type.String({ default: '' }),
  AUTH0_JWKS_URI: Type.String({ default: '' }),
  AUTH_CLOCK_TOLERANCE_S: Type.Integer({ default: 5, minimum: 0, maximum: 300 }),
  AUTH_REQUIRE_SCOPES: Type.Boolean({ default: false }),
  JWKS_CACHE_TTL_S: Type.Integer({ default: 600, minimum: 1 }),
  JWKS_COOLDOWN_S: Type.Integer({ default: 30, minimum: 0 }),
  JWKS_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 1 }),
  TOKEN_CACHE_SIZE: Type.Integer({ default: 10000, minimum: 0 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 10000, minimum: 0 }),
  CORS_ORIGIN: Type.String({ default: '' })
})

export type Env = Static<typeof envSchema>

/** A configuration mistake that must stop start-up; the message always names the variable. */
export class ConfigError extends Error {
  constructor (variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export type AuthSettings =
  | { mode: 'auth0', issuer: string, audience: string, jwksUri: string }
  | { mode: 'dev', issuer: string, audience: string }

export const DEV_ISSUER = 'urn:cat-data-api:dev-issuer'
export const DEV_AUDIENCE = 'urn:cat-data-api'

/** Works out who issues tokens and where its keys are, or throws a ConfigError naming the variable. */
export function resolveAuthSettings (env: Env): AuthSettings {
  if (env.AUTH0_DOMAIN === '') {
    if (env.NODE_ENV === 'production') throw new ConfigError('AUTH0_DOMAIN', 'is required when NODE_ENV=production')
    return { mode: 'dev', issuer: DEV_ISSUER, audience: env.AUTH0_AUDIENCE || DEV_AUDIENCE }
  }
  if (env.AUTH0_AUDIENCE === '') throw new ConfigError('AUTH0_AUDIENCE', 'is required when AUTH0_DOMAIN is set')

  const domain = issuerUrl('AUTH0_DOMAIN', env.AUTH0_DOMAIN)
  const issuer = env.AUTH0_ISSUER === '' ? domain : issuerUrl('AUTH0_ISSUER', env.AUTH0_ISSUER)
  const jwksUri = env.AUTH0_JWKS_URI === ''
    ? `${domain}.well-known/jwks.json`
    : checkedUrl('AUTH0_JWKS_URI', env.AUTH0_JWKS_URI).href
  return { mode: 'auth0', issuer, audience: env.AUTH0_AUDIENCE, jwksUri }
}

/** `tenant.auth0.com`, `https://tenant.auth0.com` and `https://tenant.auth0.com/` all mean `https://tenant.auth0.com/`. */
function issuerUrl (variable: string, value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`
  const url = checkedUrl(variable, withScheme)
  if (url.search !== '' || url.hash !== '') throw new ConfigError(variable, 'must not have a query or fragment')
  return url.href.endsWith('/') ? url.href : `${url.href}/`
}

function checkedUrl (variable: string, value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(variable, `"${value}" is not a valid URL`)
  }
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url
  if (url.protocol === 'http:') throw new ConfigError(variable, 'http:// is only allowed for loopback hosts; use https://')
  throw new ConfigError(variable, `unsupported protocol ${url.protocol}`)
}

export function isLoopback (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}
