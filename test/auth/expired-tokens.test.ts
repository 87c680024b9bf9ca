import t from 'tap'
import { ExpiredTokens } from '../../src/auth/expired-tokens.js'

t.test('remembers tokens by their exact text', async (t) => {
  const expired = new ExpiredTokens(10)
  t.notOk(expired.has('a.b.c'))
  expired.add('a.b.c')
  t.ok(expired.has('a.b.c'))
  t.notOk(expired.has('a.b.x'), 'another text is another token')
})

t.test('bounded: the oldest goes when full; size 0 keeps nothing; long tokens are not kept', async (t) => {
  const expired = new ExpiredTokens(2, 10)
  expired.add('t1')
  expired.add('t2')
  expired.add('t3')
  t.notOk(expired.has('t1'), 'the oldest went')
  t.ok(expired.has('t2'))
  t.ok(expired.has('t3'))
  expired.add('x'.repeat(11))
  t.notOk(expired.has('x'.repeat(11)), 'longer than the limit')
  t.ok(expired.has('t2'), 'and it evicted nothing')

  const off = new ExpiredTokens(0)
  off.add('t1')
  t.notOk(off.has('t1'))
})
