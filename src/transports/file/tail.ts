import type { FileHandle } from 'node:fs/promises'
import { SeamError } from '../../channel/errors.js'
import { FrameDecoder } from '../stream/frames.js'
import { HEADER_BYTES } from './format.js'

const SCAN_BYTES = 1024 * 1024

/** Where the whole records of a file end, and how many bytes of a torn one follow. */
export interface Tail {
  /** The byte offset just past the last whole record. */
  readonly end: number
  /** Bytes after `end`: the start of a record whose writer has not finished it (or died). */
  readonly torn: number
}

/**
 * Walks the record lengths from the header to `size` (the frames are not
 * decoded) to find the end of the last whole record. Costs one sequential
 * read of the file.
 * @throws SeamError `ERR_PROTOCOL` when a length is 0 or over `maxFrameBytes`: the file is damaged.
 */
export async function findTail(fh: FileHandle, size: number, maxFrameBytes: number, path: string): Promise<Tail> {
  const decoder = new FrameDecoder(maxFrameBytes)
  const ignore = (): void => undefined
  let pos = HEADER_BYTES
  while (pos < size) {
    const buf = Buffer.allocUnsafe(Math.min(SCAN_BYTES, size - pos))
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos)
    if (bytesRead === 0) break
    try {
      decoder.push(buf.subarray(0, bytesRead), ignore)
    } catch (err) {
      throw new SeamError('ERR_PROTOCOL', `${path} is damaged before offset ${pos + bytesRead}: ${(err as Error).message}`, { cause: err })
    }
    pos += bytesRead
  }
  return { end: pos - decoder.buffered, torn: decoder.buffered }
}
