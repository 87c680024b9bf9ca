import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { DOCS_PATH } from '../../src/project.js'

/**
 * What every API answer (JSON or image bytes) carries: the headers OWASP's REST Security Cheat Sheet
 * asks of an API, a policy that lets nothing load, run or frame, and resources only for this origin.
 * Helmet's own set is written for HTML pages (a page's CSP, COOP, Origin-Agent-Cluster, DNS prefetch,
 * IE download options, ...): about 700 bytes and 12 headers on every answer, which measured at a sixth
 * of a metadata request's cost here, for headers that mean nothing to a JSON or an image response.
 */
const API_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY'
}

/** Helmet's defaults, worked out once, less upgrade-insecure-requests: `npm start` serves plain http on loopback. */
function pageHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: () => {}
  }
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })(
    {} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => { if (error !== undefined) throw error })
  return headers
}

/** `/docs` itself, or anything under it or with a query, but not `/docsx`. */
function isDocsPage (url: string): boolean {
  if (!url.startsWith(DOCS_PATH)) return false
  const next = url.charAt(DOCS_PATH.length)
  return next === '' || next === '/' || next === '?'
}

/**
 * Security headers on every answer: the API's set, and helmet's page set on the docs page (HTML), whose
 * scripts @fastify/swagger-ui serves as files under its own CSP. Neither depends on the request, so each
 * is built once: @fastify/helmet rebuilds helmet's middleware on every request.
 */
export default fp(async function securityHeaders (fastify: FastifyInstance) {
  const page = pageHeaders()
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(isDocsPage(request.url) ? page : API_HEADERS)
    done()
  })
}, { name: 'security-headers' })
