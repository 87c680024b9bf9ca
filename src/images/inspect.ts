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
export const HEAD_BYTES = 512 * 1024

export interface ImageFacts {
  mimeType: string
  extension: string
  width: number
  height: number
}

/** Recognises an accepted image from its first bytes and reads its dimensions from the header; null otherwise. */
export async function inspectImage (head: Uint8Array): Promise<ImageFacts | null> {
  try {
    const detected = await fileTypeFromBuffer(head)
    const extension = detected === undefined ? undefined : ACCEPTED_TYPES[detected.mime]
    if (detected === undefined || extension === undefined) return null
    // A copy of exactly the head's length: image-size reads through the view into the underlying
    // ArrayBuffer, so a cut-off header inside a pooled Buffer would be "completed" by unrelated bytes.
    const { width, height } = imageSize(new Uint8Array(head))
    if (!(width > 0 && height > 0)) return null
    return { mimeType: detected.mime, extension, width, height }
  } catch {
    // Both parsers throw on some malformed input; whatever the bytes are, they are not an image we accept.
    return null
  }
}
