/** What a verified token stands for, and for how long (epoch ms, clock tolerance included). */
export interface VerifiedToken<User> {
  user: User
  /** The kid and the PEM text of the key it was verified with. */
  kid: string
  key: string
  validFromMs: number
  validUntilMs: number
}

/**
 * Tokens that passed full verification, keyed by their exact text, so that a repeat costs a map lookup:
 * no base64 or JSON decoding, no hashing, no RSA. A hit only counts while the token is within its
 * nbf..exp window and its key is still the one the key set holds for its kid (so a retired or replaced
 * key ends its tokens' entries, as it would end a full verification). Failures are never kept.
 * Bounded: when full, the oldest entry goes.
 */
export class VerifiedTokens<User> {
  readonly #maxSize: number
  readonly #entries = new Map<string, VerifiedToken<User>>()

  constructor (maxSize: number) {
    this.#maxSize = maxSize
  }

  /** The entry for `token`, if it is usable at `nowMs` with `currentKey` (the key set's key for its kid). */
  get (token: string, nowMs: number, currentKey: (kid: string) => string | undefined): VerifiedToken<User> | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (nowMs < entry.validFromMs || nowMs > entry.validUntilMs || currentKey(entry.kid) !== entry.key) {
      // Not now: verify again in full, so that the answer (expired, unknown key…) is the full path's.
      this.#entries.delete(token)
      return undefined
    }
    return entry
  }

  set (token: string, entry: VerifiedToken<User>): void {
    if (this.#maxSize === 0) return
    if (this.#entries.size >= this.#maxSize && !this.#entries.has(token)) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
    this.#entries.set(token, entry)
  }
}
