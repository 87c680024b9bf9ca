// Issue #3's benchmark: what token verification costs. Authenticated GET /api/images against GET / in the
// same run, with the verified-token cache on and off, alternating A B A B so that machine drift cancels.
// Run: npx tsx bench/auth.ts   (BENCH_SECONDS=5 per measurement by default)
import { createIssuer } from '../test/issuer.js'
import { buildIfNeeded, measure, printTable, startServer, type Measured } from './lib.js'

buildIfNeeded()
const issuer = await createIssuer()
const token = issuer.sign({ sub: 'bench|user' }, { expiresInS: 3600 })
const connections = 50
const rows: Measured[] = []

for (const round of [1, 2]) {
  for (const [label, cacheSize] of [['cache on', '10000'], ['cache off', '0']] as const) {
    const server = await startServer({
      AUTH0_DOMAIN: issuer.issuer,
      AUTH0_AUDIENCE: issuer.audience,
      TOKEN_CACHE_SIZE: cacheSize
    })
    const warm = await fetch(`${server.url}/api/images`, { headers: { authorization: `Bearer ${token}` } })
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`)
    rows.push(await measure(`GET / (${label}, round ${round})`, { url: `${server.url}/`, connections }))
    rows.push(await measure(`GET /api/images (${label}, round ${round})`, {
      url: `${server.url}/api/images`,
      connections,
      headers: { authorization: `Bearer ${token}` }
    }))
    await server.stop()
  }
}
await issuer.close()
printTable(rows)

const average = (pattern: RegExp) => {
  const matching = rows.filter((row) => pattern.test(row.name))
  return matching.reduce((sum, row) => sum + row.requestsPerSecond, 0) / matching.length
}
const summary = {
  rootCacheOn: average(/^GET \/ \(cache on/),
  listCacheOn: average(/^GET \/api\/images \(cache on/),
  rootCacheOff: average(/^GET \/ \(cache off/),
  listCacheOff: average(/^GET \/api\/images \(cache off/)
}
const perRequestUs = (rps: number) => 1e6 / rps
console.log({
  ...Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, Math.round(value)])),
  'list/root, cache on': (summary.listCacheOn / summary.rootCacheOn).toFixed(2),
  'list/root, cache off': (summary.listCacheOff / summary.rootCacheOff).toFixed(2),
  'verification cost per request without the cache (µs of server time)': Math.round(perRequestUs(summary.listCacheOff) - perRequestUs(summary.listCacheOn))
})
