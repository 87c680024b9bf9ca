import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { DOCS_PATH, version } from '../../src/project.js'

export default fp(async function swagger (fastify: FastifyInstance) {
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Cat Data API',
        description: 'Upload, list, fetch and delete images with a Bearer token from your identity provider (Auth0 or any OIDC issuer).',
        version
      },
      tags: [
        { name: 'images', description: 'Your images' },
        { name: 'service', description: 'Service information and health' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
        }
      }
    }
  })
  await fastify.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/ ?upgrade-insecure-requests;?/, '').replace(' validator.swagger.io', ''),
    // No badge fetched from an outside validator: the page talks to this server only.
    uiConfig: { validatorUrl: null }
  })
})
