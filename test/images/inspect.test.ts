import t from 'tap'
import { ImageHead } from '../../src/images/inspect.js'
import { sanitizeFileName } from '../../src/images/names.js'
import { avif, gif, jpeg, png, webp } from '../fixtures.js'

/** An upload's bytes arriving as one chunk. */
async function inspectImage (bytes: Buffer) {
  const head = new ImageHead()
  head.push(bytes)
  return await head.inspect()
}

t.test('recognises each accepted format and reads its dimensions', async (t) => {
  t.same(await inspectImage(png(4, 3)), { mimeType: 'image/png', extension: 'png', width: 4, height: 3 })
  t.same(await inspectImage(jpeg(5, 7)), { mimeType: 'image/jpeg', extension: 'jpg', width: 5, height: 7 })
  t.same(await inspectImage(gif(6, 2)), { mimeType: 'image/gif', extension: 'gif', width: 6, height: 2 })
  t.same(await inspectImage(webp(9, 8)), { mimeType: 'image/webp', extension: 'webp', width: 9, height: 8 })
  t.same(await inspectImage(avif(10, 11)), { mimeType: 'image/avif', extension: 'avif', width: 10, height: 11 })
})

t.test('while an upload streams, the head is kept until the dimensions can be read, up to 512 KB', async (t) => {
  const streamed = async (image: Buffer) => {
    const head = new ImageHead()
    for (let at = 0; at < image.length; at += 16 * 1024) head.push(image.subarray(at, at + 16 * 1024))
    return await head.inspect()
  }
  t.same(await streamed(png(640, 480, 2 * 1024 * 1024)), { mimeType: 'image/png', extension: 'png', width: 640, height: 480 })
  t.same(await streamed(jpeg(800, 600, 300 * 1024)), { mimeType: 'image/jpeg', extension: 'jpg', width: 800, height: 600 },
    'a frame header past the first 64 KB')
  t.equal(await streamed(jpeg(800, 600, 600 * 1024)), null, 'a frame header past 512 KB cannot be read')
  t.same(await streamed(jpeg(3, 2, 40 * 1024)), { mimeType: 'image/jpeg', extension: 'jpg', width: 3, height: 2 },
    'a file that ends before 64 KB')
})

t.test('a cut-off header is not completed by the bytes that happen to follow it in memory', async (t) => {
  // Small Buffers share one pool, so the head of an upload sits beside unrelated bytes.
  for (const [label, image, cut] of [['PNG', png(4, 3), 20], ['GIF', gif(6, 2), 8], ['JPEG', jpeg(5, 7), 26]] as const) {
    const pooled = Buffer.concat([image.subarray(0, cut), Buffer.alloc(64, 0x11)]).subarray(0, cut)
    t.equal(await inspectImage(pooled), null, label)
  }
})

t.test('rejects what is not an accepted image', async (t) => {
  for (const bytes of [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    Buffer.from('%PDF-1.7\n'), Buffer.from([0x42, 0x4d, 0, 0, 0, 0])]) {
    t.equal(await inspectImage(bytes), null, JSON.stringify(bytes.subarray(0, 8).toString('latin1')))
  }
})

t.test('sanitizes client file names', async (t) => {
  t.equal(sanitizeFileName('../../etc/passwd.png', 'png'), 'passwd.png')
  t.equal(sanitizeFileName('C:\\Users\\me\\cat.png', 'png'), 'cat.png')
  t.equal(sanitizeFileName(undefined, 'gif'), 'image.gif')
  t.equal(sanitizeFileName('...', 'gif'), 'image.gif')
  t.equal(sanitizeFileName('a\u0000b\u200Bc\uD800.png', 'png'), 'abc.png', 'control, format and lone surrogate characters go')
  const long = sanitizeFileName(`${'é'.repeat(300)}.jpeg`, 'jpg')
  t.equal(long, `${'é'.repeat(95)}.jpeg`)
  t.doesNotThrow(() => encodeURIComponent(sanitizeFileName('x\uDC00y.png', 'png')), 'always safe to percent-encode')
})
