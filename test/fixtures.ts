import { deflateSync } from 'node:zlib'

/** Small, valid images of each accepted format, built byte by byte in the test (never fetched). */

function crc32 (bytes: Buffer): number {
  let crc = ~0
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return ~crc >>> 0
}

function pngChunk (type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A real RGB PNG; `extraBytes` pads it with a private ancillary chunk to reach a size. */
export function png (width = 4, height = 3, extraBytes = 0): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x7f)])
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))
  const padding = extraBytes > 0 ? [pngChunk('prVt', Buffer.alloc(extraBytes, 0x42))] : []
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    ...padding,
    pngChunk('IDAT', pixels),
    pngChunk('IEND', Buffer.alloc(0))
  ])
}

/**
 * A baseline JPEG header (SOI, JFIF APP0, SOF0 with the dimensions) followed by filler and EOI;
 * `metadataBytes` puts APP1 segments of that many bytes in all before the SOF0, as large EXIF or XMP does.
 */
export function jpeg (width = 5, height = 7, metadataBytes = 0): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00])
  const app1: Buffer[] = []
  for (let left = metadataBytes; left > 0; left -= 65_533) {
    const data = Math.min(left, 65_533)
    app1.push(Buffer.from([0xff, 0xe1, (data + 2) >> 8, (data + 2) & 0xff]), Buffer.alloc(data, 0x20))
  }
  const sof0 = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03,
    0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01])
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, ...app1, sof0, Buffer.alloc(64, 0), Buffer.from([0xff, 0xd9])])
}

export function gif (width = 6, height = 2): Buffer {
  const header = Buffer.from('GIF89a', 'latin1')
  const screen = Buffer.alloc(7)
  screen.writeUInt16LE(width, 0)
  screen.writeUInt16LE(height, 2)
  return Buffer.concat([header, screen, Buffer.from([0x3b])])
}

/** A lossless WebP (VP8L) header with the dimensions. */
export function webp (width = 9, height = 8): Buffer {
  const bits = (width - 1) | ((height - 1) << 14)
  const vp8l = Buffer.alloc(5)
  vp8l[0] = 0x2f
  vp8l.writeUInt32LE(bits >>> 0, 1)
  const chunk = Buffer.concat([Buffer.from('VP8L', 'latin1'), u32le(vp8l.length + 3), vp8l, Buffer.alloc(3)])
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32le(4 + chunk.length), Buffer.from('WEBP', 'latin1'), chunk])
}

/** An AVIF header: ftyp plus a meta box with an ispe property carrying the dimensions. */
export function avif (width = 10, height = 11): Buffer {
  const box = (type: string, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts)
    return Buffer.concat([u32be(8 + body.length), Buffer.from(type, 'latin1'), body])
  }
  const full = (type: string, ...parts: Buffer[]) => box(type, Buffer.alloc(4), ...parts)
  const ftyp = box('ftyp', Buffer.from('avif', 'latin1'), u32be(0), Buffer.from('avifmif1miaf', 'latin1'))
  const ispe = full('ispe', u32be(width), u32be(height))
  const meta = full('meta', full('hdlr', u32be(0), Buffer.from('pict', 'latin1'), Buffer.alloc(13)), box('iprp', box('ipco', ispe)))
  return Buffer.concat([ftyp, meta, box('mdat', Buffer.alloc(16))])
}

function u32le (value: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(value)
  return b
}

function u32be (value: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(value)
  return b
}

/** A multipart/form-data body with the given parts, for app.inject and raw sockets alike. */
export function multipart (parts: Array<{ name: string, filename?: string, type?: string, data: Buffer | string }>, boundary = '----cat-data-test-boundary'): { body: Buffer, contentType: string } {
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`
    // UTF-8, as browsers send non-ASCII file names (and as busboy decodes them).
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`))
    chunks.push(typeof part.data === 'string' ? Buffer.from(part.data) : part.data)
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}
