import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'

// Helmet's defaults, less upgrade-insecure-requests: `npm start` serves plain http on loopback, where upgrading
// the docs page's requests to https would break it. Behind TLS, HSTS still applies. The docs page runs under
// this policy because @fastify/swagger-ui serves its scripts as files and sets its own static CSP.
export const autoConfig: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }
}

export default helmet
