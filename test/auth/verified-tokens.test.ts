import t from 'tap'
import { VerifiedTokens, type VerifiedToken } from '../../src/auth/verified-tokens.js'

const entry = (overrides: Partial<VerifiedToken<string>> = {}): VerifiedToken<string> =>
  ({ user: 'alice', kid: 'k1', key: 'PEM-1', validFromMs: 1000, validUntilMs: 2000, ...overrides })
const keys = (held: Record<string, string>) => (kid: string) => held[kid]

t.test('a hit is only a hit inside the token\'s window and with the key it was verified with', async (t) => {
  const cache = new VerifiedTokens<string>(10)
  const current = keys({ k1: 'PEM-1' })
  cache.set('a.b.c', entry())
  t.equal(cache.get('a.b.c', 1500, current)?.user, 'alice', 'inside the window, same key')
  t.equal(cache.get('a.b.x', 1500, current), undefined, 'another token text is another entry')
  t.equal(cache.get('a.b.c', 2001, current), undefined, 'after validUntil')
  t.equal(cache.get('a.b.c', 1500, current), undefined, 'and the stale entry is gone')

  cache.set('a.b.c', entry())
  t.equal(cache.get('a.b.c', 999, current), undefined, 'before validFrom')
  cache.set('a.b.c', entry())
  t.equal(cache.get('a.b.c', 1500, keys({})), undefined, 'the kid was retired from the key set')
  cache.set('a.b.c', entry())
  t.equal(cache.get('a.b.c', 1500, keys({ k1: 'PEM-2' })), undefined, 'the kid now names another key')
})

t.test('bounded: the oldest entry goes when full; size 0 keeps nothing', async (t) => {
  const current = keys({ k1: 'PEM-1' })
  const cache = new VerifiedTokens<string>(2)
  cache.set('t1', entry({ user: '1' }))
  cache.set('t2', entry({ user: '2' }))
  cache.set('t2', entry({ user: '2b' }))
  t.equal(cache.get('t1', 1500, current)?.user, '1', 'replacing an entry does not evict another')
  cache.set('t3', entry({ user: '3' }))
  t.equal(cache.get('t1', 1500, current), undefined, 'the oldest went')
  t.equal(cache.get('t2', 1500, current)?.user, '2b')
  t.equal(cache.get('t3', 1500, current)?.user, '3')

  const off = new VerifiedTokens<string>(0)
  off.set('t1', entry())
  t.equal(off.get('t1', 1500, current), undefined)
})
