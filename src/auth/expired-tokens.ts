/**
 * Tokens already refused as expired, by their exact text, so that a client that keeps sending one (a
 * poller whose token ran out) is refused with a set lookup instead of decoding its payload again. Being
 * expired is the one refusal that never stops being right: time only moves on. Such a token is refused
 * before any signature check, so anyone can mint them: the set is small, keeps only tokens of a usual
 * length, and when full lets the oldest go.
 */
export class ExpiredTokens {
  readonly #maxSize: number
  readonly #tokens = new Set<string>()

  constructor (maxSize: number, readonly maxTokenLength = 4096) {
    this.#maxSize = maxSize
  }

  has (token: string): boolean {
    return this.#tokens.has(token)
  }

  add (token: string): void {
    if (this.#maxSize === 0 || token.length > this.maxTokenLength) return
    if (this.#tokens.size >= this.#maxSize) this.#tokens.delete(this.#tokens.values().next().value as string)
    this.#tokens.add(token)
  }
}
