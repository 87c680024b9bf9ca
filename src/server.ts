import Fastify from 'fastify'
import fp from 'fastify-plugin'
import closeWithGrace from 'close-with-grace'
import serviceApp from './app.js'

try {
  process.loadEnvFile()
} catch {
  // No .env: the defaults apply.
}

const app = Fastify({
  logger: {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' }
  },
  // Image ids are short; a long path parameter is a mistake or an attack.
  routerOptions: { maxParamLength: 100 }
})

try {
  await app.register(fp(serviceApp))
  closeWithGrace({ delay: app.config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an error')
    else app.log.info({ signal }, 'closing')
    await app.close()
  })
  await app.listen({ host: app.config.HOST, port: app.config.PORT })
} catch (err) {
  app.log.fatal(err instanceof Error ? err.message : err, 'could not start')
  process.exit(1)
}
