import { randomUUID } from 'node:crypto'
import type { FastifyServerOptions, RawRequestDefaultExpression } from 'fastify'

const SANE_REQUEST_ID = /^[\w.:@-]{1,128}$/
const SECRET_QUERY = /([?&](?:access_token|id_token|token|code)=)[^&#]*/gi

/** Credentials never reach the logs: headers and token-ish query parameters are redacted everywhere. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  '*.token',
  'access_token',
  '*.access_token'
]

/**
 * Options for the Fastify instance, shared by src/server.ts and the tests: JSON logs (pretty on a
 * terminal in development), request ids taken from a sane X-Request-Id or generated, redaction.
 */
export function serverOptions (env: NodeJS.ProcessEnv = process.env): FastifyServerOptions {
  const pretty = env.NODE_ENV !== 'production' && process.stdout.isTTY === true
  return {
    logger: {
      level: env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (request: { method: string, url: string, ip?: string, id?: string }) => ({
          method: request.method,
          url: request.url.replace(SECRET_QUERY, '$1[redacted]'),
          remoteAddress: request.ip
        }),
        // Who asked, on the line that closes each request: the token's subject, never the token.
        res: (reply: { statusCode: number, request?: { user?: { sub?: string } | null } }) => ({
          statusCode: reply.statusCode,
          sub: reply.request?.user?.sub
        })
      },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
    },
    requestIdHeader: false,
    genReqId: (request: RawRequestDefaultExpression) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
    },
    // Image ids are short; a long path parameter is a mistake or an attack.
    routerOptions: { maxParamLength: 100 }
  }
}
