import Fastify from 'fastify'
import fp from 'fastify-plugin'
import closeWithGrace from 'close-with-grace'
import serviceApp from './app.js'
import { serverOptions } from './server-options.js'

try {
  process.loadEnvFile()
} catch {
  // No .env: the defaults apply.
}

const app = Fastify(serverOptions())

try {
  await app.register(fp(serviceApp))
  const grace = app.config.SHUTDOWN_GRACE_MS
  // close-with-grace's own deadline is a last resort; ours cuts connections first so that uploads clean up.
  closeWithGrace({ delay: grace + 5000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal, graceMs: grace }, 'closing: no new connections, waiting for requests in flight')
    const deadline = setTimeout(() => {
      app.log.warn('grace period over: cutting off the requests still in flight')
      app.server.closeAllConnections()
    }, grace)
    await app.close()
    clearTimeout(deadline)
  })
  await app.listen({ host: app.config.HOST, port: app.config.PORT })
} catch (err) {
  app.log.fatal(err instanceof Error ? err.message : err, 'could not start')
  process.exit(1)
}
