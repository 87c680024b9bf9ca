import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ACCEPTED_TYPES, ImageHead } from './inspect.js'

/** An upload that is complete on disk but not yet in place. */
export interface ReceivedFile {
  tempPath: string
  size: number
  sha256: string
  /** The first bytes, for recognising the format and reading the dimensions. */
  head: ImageHead
}

const TEMP_DIR = '.incoming'
const METER_BUFFER_BYTES = 256 * 1024

/** How the server names stored files, `<uuid>.<ext>`; nothing else in the folder is the store's to sweep. */
const STORAGE_KEY = new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.(?:${Object.values(ACCEPTED_TYPES).join('|')})$`)

/**
 * Image bytes on local disk: `<dir>/<storageKey>` for stored images and `<dir>/.incoming/`
 * for uploads in progress, on the same file system so that putting one in place is a rename.
 */
export class ImageStore {
  readonly tempDir: string
  readonly #receiving = new Set<Promise<ReceivedFile>>()

  constructor (readonly dir: string) {
    this.tempDir = join(dir, TEMP_DIR)
  }

  /** Creates the folders and removes uploads left over from a crash; returns how many. */
  async prepare (): Promise<number> {
    await mkdir(this.tempDir, { recursive: true })
    const leftovers = await readdir(this.tempDir)
    await Promise.all(leftovers.map((name) => rm(join(this.tempDir, name), { force: true, recursive: true })))
    return leftovers.length
  }

  /** Streams `source` into a temporary file, hashing and measuring it on the way; removes the file on failure. */
  async receive (source: Readable): Promise<ReceivedFile> {
    const work = this.#receive(source)
    this.#receiving.add(work)
    try {
      return await work
    } finally {
      this.#receiving.delete(work)
    }
  }

  /** Resolves once every upload being received is complete on disk or removed (closing waits for this). */
  async settled (): Promise<void> {
    await Promise.allSettled(this.#receiving)
  }

  async #receive (source: Readable): Promise<ReceivedFile> {
    const tempPath = join(this.tempDir, `${randomUUID()}.part`)
    const hash = createHash('sha256')
    const head = new ImageHead()
    let size = 0
    const meter = new Transform({
      // Room for several socket reads: at the default 16 KB every chunk meant a pause and a resume.
      highWaterMark: METER_BUFFER_BYTES,
      transform (chunk: Buffer, _encoding, callback) {
        hash.update(chunk)
        size += chunk.length
        head.push(chunk)
        callback(null, chunk)
      }
    })
    try {
      // flush: the bytes reach the disk before the file is renamed into place.
      await pipeline(source, meter, createWriteStream(tempPath, { flags: 'wx', mode: 0o600, flush: true }))
    } catch (error) {
      await rm(tempPath, { force: true })
      throw error
    }
    return { tempPath, size, sha256: hash.digest('hex'), head }
  }

  /** Puts a received file in place under `storageKey`. */
  async commit (file: ReceivedFile, storageKey: string): Promise<void> {
    await rename(file.tempPath, this.pathOf(storageKey))
    // The rename itself must survive a power cut before a row points at the file.
    const dir = await open(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  async discard (file: ReceivedFile): Promise<void> {
    await rm(file.tempPath, { force: true })
  }

  pathOf (storageKey: string): string {
    return join(this.dir, storageKey)
  }

  async remove (storageKey: string): Promise<void> {
    await rm(this.pathOf(storageKey), { force: true })
  }

  /**
   * Storage keys of every stored file (not uploads in progress). Other files are left out, so that a sweep
   * never touches what the server did not write (say, the database, when UPLOAD_DIR is the data folder).
   */
  async storedKeys (): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true })
    return entries.filter((entry) => entry.isFile() && STORAGE_KEY.test(entry.name)).map((entry) => entry.name)
  }
}
