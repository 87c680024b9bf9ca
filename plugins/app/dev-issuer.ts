import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { resolve } from 'node:path'
import { loadOrCreateDevKey, mintDevToken, type DevKey } from '../../src/auth/dev-issuer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The built-in development issuer's key, or null when a real issuer (Auth0) is configured. */
    devIssuer: DevKey | null
  }
}

/**
 * With no AUTH0_DOMAIN outside production, the API issues its own tokens for local use.
 * Its key set is served at /dev/jwks.json and verified through the same key-set path as Auth0's.
 */
export default fp(async function devIssuer (fastify: FastifyInstance) {
  const env = fastify.config
  const settings = fastify.authSettings
  if (settings.mode !== 'dev') {
    fastify.decorate('devIssuer', null)
    return
  }
  const key = await loadOrCreateDevKey(resolve(env.DATA_DIR))
  fastify.decorate('devIssuer', key)

  fastify.get('/dev/jwks.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { keys: [key.publicJwk] }
  })

  fastify.addHook('onListen', async function announce () {
    const address = fastify.server.address()
    if (address === null || typeof address === 'string') return
    const host = ['0.0.0.0', '::', '::1'].includes(address.address) ? 'localhost' : address.address
    const base = `http://${host}:${address.port}`
    const token = mintDevToken(key, { audience: settings.audience, expiresInS: 24 * 3600 })
    fastify.log.warn('development issuer active: tokens are signed by a local key, not by Auth0 (set AUTH0_DOMAIN to use a real tenant)')
    fastify.log.info(`docs: ${base}/docs`)
    fastify.log.info(`try: curl -H "Authorization: Bearer ${token}" ${base}/api/images`)
  })
}, { name: 'dev-issuer' })
