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
  const detected = await fileTypeFromBuffer(head)
  if (detected === undefined) return null
  const extension = ACCEPTED_TYPES[detected.mime]
  if (extension === undefined) return null
  try {
    const { width, height } = imageSize(head)
    if (!(width > 0 && height > 0)) return null
    return { mimeType: detected.mime, extension, width, height }
  } catch {
    return null
  }
}
