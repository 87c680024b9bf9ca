import { join } from 'node:path'
import type { FastifyError, FastifyInstance, FastifyPluginOptions } from 'fastify'
import fastifyAutoload from '@fastify/autoload'
import fastifyEnv from '@fastify/env'
import { envSchema, resolveAuthSettings, type AuthSettings, type Env } from './config.js'
import { ApiError, errorBody, invalidId } from './errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Env
    authSettings: AuthSettings
  }
}

export interface AppOptions extends FastifyPluginOptions {
  /** Environment to read instead of process.env (tests use this). */
  env?: Record<string, string | undefined>
}

const root = join(import.meta.dirname, '..')

// Run from source (tsx: tests, `npm run dev`), autoload must accept .ts files; it cannot always tell by itself.
if (import.meta.url.endsWith('.ts')) process.env.FASTIFY_AUTOLOAD_TYPESCRIPT ??= '1'

/** The whole API as a plugin: configuration, plugins, routes and the error contract. It never listens. */
export default async function serviceApp (fastify: FastifyInstance, opts: AppOptions) {
  await fastify.register(fastifyEnv, {
    schema: envSchema,
    data: opts.env ?? process.env
  })
  // Worked out once, before any plugin loads, so that a bad issuer setting stops start-up with its name.
  const authSettings = resolveAuthSettings(fastify.config)
  fastify.decorate('authSettings', { getter: () => authSettings })
  fastify.addHook('onRequest', (request, reply, done) => { reply.header('x-request-id', request.id); done() })

  fastify.setErrorHandler(function handleError (error: FastifyError | ApiError, request, reply) {
    // A route may have set headers for a success (an image's type, ETag, caching) before it failed.
    reply.removeHeader('etag').removeHeader('cache-control').removeHeader('content-disposition').removeHeader('content-length')
    let answer = clientError(error)
    if (answer === undefined) {
      request.log.error({ err: error }, 'request failed')
      answer = new ApiError(500, 'internal_error', 'Internal server error')
    }
    return reply
      .code(answer.statusCode)
      .headers(answer.headers)
      .type('application/json; charset=utf-8')
      .send(answer.json)
  })

  fastify.setNotFoundHandler(function notFound (request, reply) {
    return reply.code(404).send(errorBody(404, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })

  // Registered after the handlers above so that every route inherits them.
  await fastify.register(fastifyAutoload, { dir: join(root, 'plugins/external'), options: {} })
  await fastify.register(fastifyAutoload, { dir: join(root, 'plugins/app'), options: {} })
  await fastify.register(fastifyAutoload, { dir: join(root, 'routes'), autoHooks: true, cascadeHooks: true, options: {} })
}

/** The contract's answer for an error a client caused; undefined for a server fault. */
function clientError (error: FastifyError | ApiError): ApiError | undefined {
  if (error instanceof ApiError) return error
  if (error.validation !== undefined) {
    return error.validationContext === 'params' ? invalidId() : new ApiError(400, 'invalid_request', error.message)
  }
  const status = error.statusCode ?? 500
  if (status < 400 || status >= 500) return undefined
  const code = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
    ? 'invalid_content_type'
    : status === 413 ? 'payload_too_large' : 'invalid_request'
  return new ApiError(status, code, error.message)
}
