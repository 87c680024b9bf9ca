import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { AUTH_ERRORS, ImageMetadata, errorResponses } from '../../src/schemas.js'
import type { ReceivedFile } from '../../src/images/store.js'
import { sendImageJson } from '../../src/images/catalog.js'
import { sanitizeFileName } from '../../src/images/names.js'
import { emptyFile, fileTooLarge, missingFile, notMultipart, translateUploadError, unsupportedImage, wrongField } from '../../src/images/upload-errors.js'

const MULTIPART = /^multipart\/form-data\s*(;|$)/i

const upload: FastifyPluginAsyncTypebox = async (fastify) => {
  const { imageStore, imageCatalog, prisma } = fastify
  const limit = fastify.config.MAX_UPLOAD_BYTES

  fastify.post('/upload', {
    onRequest: fastify.requireScope('write:images'),
    validatorCompiler: () => () => true,
    // Refused before any body parser runs, so that JSON, text or an oversized body all get the same answer.
    preParsing: async (request) => {
      if (!MULTIPART.test(request.headers['content-type'] ?? '')) throw notMultipart()
    },
    schema: {
      summary: 'Upload an image',
      description: `Stores one JPEG, PNG, GIF, WebP or AVIF image (recognised from its bytes, whatever the client declares), sent as multipart/form-data in the field "file", at most ${limit} bytes. The image belongs to the token's subject.`,
      tags: ['images'],
      security: [{ bearerAuth: [] }],
      consumes: ['multipart/form-data'],
      // Documents the form for OpenAPI, so that Swagger UI shows a file picker. Not used for validation:
      // the body is streamed by @fastify/multipart and checked above, never parsed into request.body.
      body: {
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: { file: { type: 'string', format: 'binary', description: 'The image' } },
              required: ['file']
            }
          }
        }
      },
      response: { 201: ImageMetadata, ...errorResponses(...AUTH_ERRORS, 413, 415) }
    }
  }, async (request, reply) => {
    let received: ReceivedFile | undefined
    let clientName: string | undefined
    try {
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue
        if (part.fieldname !== 'file') throw wrongField(part.fieldname)
        clientName = part.filename
        received = await imageStore.receive(part.file)
        if (part.file.truncated) throw fileTooLarge(limit)
      }
      if (received === undefined) throw missingFile()
      if (received.size === 0) throw emptyFile()
    } catch (error) {
      if (received !== undefined) await imageStore.discard(received)
      // The rest of the body may be unread (and no longer being read): close the connection once the
      // error is sent, as Fastify does for body errors, instead of leaving the socket stuck open.
      reply.header('connection', 'close')
      throw translateUploadError(error, limit)
    }

    const facts = await received.head.inspect()
    if (facts === null) {
      await imageStore.discard(received)
      throw unsupportedImage()
    }

    const id = randomUUID()
    const storageKey = `${id}.${facts.extension}`
    const originalName = sanitizeFileName(clientName, facts.extension)
    await imageStore.commit(received, storageKey).catch(async (error: unknown) => {
      await imageStore.discard(received)
      throw error
    })
    const row = await prisma.image.create({
      data: {
        ownerSub: request.user.sub,
        name: `${id}-${originalName}`,
        originalName,
        mimeType: facts.mimeType,
        size: received.size,
        width: facts.width,
        height: facts.height,
        sha256: received.sha256,
        storageKey
      },
      select: { id: true }
    }).catch(async (error: unknown) => {
      await imageStore.remove(storageKey)
      throw error
    })
    // Read back the way every other route reads, so the API's shape of a row is made in one place.
    const json = await imageCatalog.metadata(row.id, request.user.sub)
    if (json === undefined) throw new Error(`image ${row.id} was written but cannot be read back`)
    return sendImageJson(reply.code(201).header('location', `/api/image/${row.id}`), json)
  })
}

export default upload
