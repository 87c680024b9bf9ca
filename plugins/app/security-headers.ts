import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'

/**
 * Helmet's security headers on every answer. Helmet's middleware is built once here: @fastify/helmet
 * rebuilds it on every request, which measured at about a quarter of the CPU of `GET /`.
 * Helmet's defaults, less upgrade-insecure-requests: `npm start` serves plain http on loopback, where
 * upgrading the docs page's requests to https would break it. Behind TLS, HSTS still applies. The docs
 * page runs under this policy because @fastify/swagger-ui serves its scripts as files with its own CSP.
 */
export default fp(async function securityHeaders (fastify: FastifyInstance) {
  const setHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })
  fastify.addHook('onRequest', (request, reply, done) => {
    setHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined))
  })
}, { name: 'security-headers' })
