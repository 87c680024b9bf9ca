import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * Helmet's security headers on every answer. They do not depend on the request, so helmet runs once,
 * at start-up, and each request gets the same header set: @fastify/helmet rebuilds helmet's middleware
 * on every request, and even a prebuilt one measured at a tenth of a listing's CPU.
 * Helmet's defaults, less upgrade-insecure-requests: `npm start` serves plain http on loopback, where
 * upgrading the docs page's requests to https would break it. Behind TLS, HSTS still applies. The docs
 * page runs under this policy because @fastify/swagger-ui serves its scripts as files with its own CSP.
 */
export default fp(async function securityHeaders (fastify: FastifyInstance) {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: () => {}
  }
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })(
    {} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => { if (error !== undefined) throw error })
  fastify.addHook('onRequest', (_request, reply, done) => { reply.headers(headers); done() })
}, { name: 'security-headers' })
