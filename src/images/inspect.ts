import { fileTypeFromBuffer } from 'file-type'
import { imageSize } from 'image-size'

/** Formats the API stores, by the MIME type file-type reports for their bytes. */
export const ACCEPTED_TYPES: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif'
}

/** image-size reads at most this many bytes from the start of a file. */
const HEAD_BYTES = 512 * 1024
/** Where the dimensions are looked for first: every format's header fits, but for a JPEG with large metadata. */
const FIRST_LOOK_BYTES = 64 * 1024

export interface ImageFacts {
  mimeType: string
  extension: string
  width: number
  height: number
}

interface Dimensions { width: number, height: number }

/**
 * The first bytes of an upload, kept while it streams until its dimensions can be read from them: the
 * first 64 KB, or up to 512 KB for a JPEG whose frame header comes after large metadata. Holding 512 KB
 * of every upload until its end kept those buffers alive through garbage collections, which then cost
 * about as much CPU as hashing the upload.
 */
export class ImageHead {
  #chunks: Buffer[] = []
  #length = 0
  /** undefined while more bytes may tell; null once they cannot. */
  #dimensions: Dimensions | null | undefined

  push (chunk: Buffer): void {
    if (this.#dimensions !== undefined) return
    const before = this.#length
    const slice = chunk.subarray(0, HEAD_BYTES - before)
    this.#chunks.push(slice)
    this.#length += slice.length
    if (this.#length >= HEAD_BYTES) this.#look(true)
    else if (before < FIRST_LOOK_BYTES && this.#length >= FIRST_LOOK_BYTES) this.#look(false)
  }

  /** Recognises an accepted image from the bytes pushed so far; null when they are not one. */
  async inspect (): Promise<ImageFacts | null> {
    if (this.#dimensions === undefined) this.#look(true)
    const dimensions = this.#dimensions
    if (dimensions === null || dimensions === undefined) return null
    try {
      const detected = await fileTypeFromBuffer(this.#bytes())
      const extension = detected === undefined ? undefined : ACCEPTED_TYPES[detected.mime]
      if (detected === undefined || extension === undefined) return null
      return { mimeType: detected.mime, extension, ...dimensions }
    } catch {
      // file-type throws on some malformed input; whatever the bytes are, they are not an image we accept.
      return null
    }
  }

  /** Reads the dimensions from the bytes so far; `last`: no more will come, so a failure is final. */
  #look (last: boolean): void {
    const dimensions = readDimensions(this.#bytes())
    if (dimensions !== null || last) this.#dimensions = dimensions
  }

  #bytes (): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)]
    return this.#chunks[0] ?? Buffer.alloc(0)
  }
}

function readDimensions (bytes: Uint8Array): Dimensions | null {
  try {
    // A copy of exactly the head's length: image-size reads through the view into the underlying
    // ArrayBuffer, so a cut-off header inside a pooled Buffer would be "completed" by unrelated bytes.
    const { width, height } = imageSize(new Uint8Array(bytes))
    return width > 0 && height > 0 ? { width, height } : null
  } catch {
    // image-size throws on malformed input; whatever the bytes are, they are not an image we accept.
    return null
  }
}
