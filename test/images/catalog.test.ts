import t from 'tap'
import { isoTimestamp } from '../../src/images/catalog.js'

t.test('createdAt is RFC 3339 in UTC whichever way the row holds it', async (t) => {
  t.equal(isoTimestamp('2026-12-03T19:20:09.215+00:00'), '2026-12-03T19:20:09.215Z', 'as Prisma writes it')
  t.equal(isoTimestamp('2026-12-03 19:20:09'), '2026-12-03T19:20:09.000Z', 'SQLite\'s CURRENT_TIMESTAMP, which is UTC')
  t.equal(isoTimestamp('2026-12-03T21:20:09.215+02:00'), '2026-12-03T19:20:09.215Z', 'another offset')
  t.equal(isoTimestamp(Date.UTC(2026, 11, 3, 19, 20, 9, 215)), '2026-12-03T19:20:09.215Z', 'epoch milliseconds')
})
