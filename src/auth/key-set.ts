import { createPublicKey } from 'node:crypto'

/** The identity provider's key set could not be fetched and the key is not cached. Answers 503. */
export class KeySetUnavailableError extends Error {
  constructor (readonly retryAfterS: number, cause?: unknown) {
    super('The identity provider\'s key set is unavailable', { cause })
    this.name = 'KeySetUnavailableError'
  }
}

/** The key set was fetched (recently enough) and has no such key. Answers 401. */
export class UnknownKeyError extends Error {
  constructor () {
    super('The token\'s signing key is unknown')
    this.name = 'UnknownKeyError'
  }
}

export interface KeySetOptions {
  /** Where the keys are; a function when the address is only known later (the development issuer). */
  url: string | (() => string)
  cacheTtlMs?: number
  cooldownMs?: number
  timeoutMs?: number
  maxBytes?: number
  now?: () => number
  onFetch?: (event: { url: string, ok: boolean, keys?: number, error?: unknown }) => void
}

interface Jwk {
  kty?: unknown
  use?: unknown
  alg?: unknown
  kid?: unknown
  n?: unknown
  e?: unknown
  key_ops?: unknown
}

/**
 * An RS256 key set fetched from a URL that configuration gives (never from a token).
 *
 * - one fetch in flight at a time, shared by every waiting request;
 * - keys are imported once into PEM text and kept for `cacheTtlMs`; stale keys are served
 *   while a refresh runs in the background, and kept when the provider fails;
 * - a fetch (success or failure) starts a cooldown: an unknown kid within it gets
 *   UnknownKeyError (or KeySetUnavailableError if the last fetch failed) without a new fetch,
 *   so a flood of random kids costs the provider at most one request per cooldown.
 */
export class KeySet {
  readonly #url: () => string
  readonly #cacheTtlMs: number
  readonly #cooldownMs: number
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #now: () => number
  readonly #onFetch: KeySetOptions['onFetch']

  #keys = new Map<string, string>()
  #fetchedAt = -Infinity
  #attemptedAt = -Infinity
  #lastFetchFailed = false
  #inFlight: Promise<void> | undefined

  constructor (options: KeySetOptions) {
    const { url } = options
    this.#url = typeof url === 'string' ? () => url : url
    this.#cacheTtlMs = options.cacheTtlMs ?? 600_000
    this.#cooldownMs = options.cooldownMs ?? 30_000
    this.#timeoutMs = options.timeoutMs ?? 5_000
    this.#maxBytes = options.maxBytes ?? 256 * 1024
    this.#now = options.now ?? Date.now
    this.#onFetch = options.onFetch
  }

  /** The PEM text of the RSA public key with this kid. */
  async getKey (kid: string): Promise<string> {
    const cached = this.cachedKey(kid)
    if (cached !== undefined) return cached
    const now = this.#now()
    if (now - this.#attemptedAt < this.#cooldownMs) {
      if (this.#inFlight !== undefined) await this.#inFlight
      else throw this.#missError(now)
    } else {
      await this.#refresh()
    }
    const key = this.#keys.get(kid)
    if (key === undefined) throw this.#missError(this.#now())
    return key
  }

  /** The key with this kid if it is held now, without waiting for a fetch (a stale set is refreshed in the background). */
  cachedKey (kid: string): string | undefined {
    const cached = this.#keys.get(kid)
    if (cached !== undefined && this.#now() - this.#fetchedAt >= this.#cacheTtlMs) this.#refreshInBackground()
    return cached
  }

  #missError (now: number): Error {
    if (!this.#lastFetchFailed) return new UnknownKeyError()
    const retryAfterMs = Math.max(this.#cooldownMs - (now - this.#attemptedAt), 1000)
    return new KeySetUnavailableError(Math.ceil(retryAfterMs / 1000))
  }

  #refreshInBackground (): void {
    if (this.#now() - this.#attemptedAt < this.#cooldownMs) return
    this.#refresh().catch(() => {})
  }

  /** Never rejects: a failure is recorded and the old keys stay. */
  #refresh (): Promise<void> {
    this.#inFlight ??= this.#fetchKeys().finally(() => { this.#inFlight = undefined })
    return this.#inFlight
  }

  async #fetchKeys (): Promise<void> {
    this.#attemptedAt = this.#now()
    let url = ''
    try {
      url = this.#url()
      const keys = await this.#download(url)
      this.#keys = keys
      this.#fetchedAt = this.#now()
      this.#lastFetchFailed = false
      this.#onFetch?.({ url, ok: true, keys: keys.size })
    } catch (error) {
      this.#lastFetchFailed = true
      this.#onFetch?.({ url, ok: false, error })
    }
  }

  async #download (url: string): Promise<Map<string, string>> {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(this.#timeoutMs),
      redirect: 'error',
      headers: { accept: 'application/json' }
    })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`key set answered ${response.status}`)
    }
    const body = await readCapped(response, this.#maxBytes)
    const keys = parseKeySet(JSON.parse(body))
    if (keys.size === 0) throw new Error('key set has no RSA signing keys')
    return keys
  }
}

async function readCapped (response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new Error(`key set is larger than ${maxBytes} bytes`)
  }
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body) {
    total += chunk.byteLength
    if (total > maxBytes) throw new Error(`key set is larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const BASE64URL = /^[A-Za-z0-9_-]+$/
/** RFC 7518 §3.3: RS256 keys MUST be 2048 bits or larger. */
const MIN_MODULUS_BITS = 2048

/**
 * Keeps RSA keys meant for signing (RS256) that have a kid; ignores everything else, including keys
 * Node would import but that protect nothing: Node decodes `n` leniently ("!!!" is an empty modulus),
 * and a short modulus or an exponent of 1 would let anyone sign.
 */
export function parseKeySet (document: unknown): Map<string, string> {
  const keys = new Map<string, string>()
  if (typeof document !== 'object' || document === null) return keys
  const list: unknown = (document as { keys?: unknown }).keys
  if (!Array.isArray(list)) return keys
  for (const jwk of list as Jwk[]) {
    if (typeof jwk !== 'object' || jwk === null) continue
    if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') continue
    if (!BASE64URL.test(jwk.n) || !BASE64URL.test(jwk.e)) continue
    if (typeof jwk.kid !== 'string' || jwk.kid === '') continue
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) continue
    try {
      const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' })
      const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {}
      if (modulusLength < MIN_MODULUS_BITS || publicExponent < 3n || publicExponent % 2n === 0n) continue
      keys.set(jwk.kid, key.export({ type: 'spki', format: 'pem' }).toString())
    } catch {
      // A key Node cannot import is as good as absent.
    }
  }
  return keys
}
