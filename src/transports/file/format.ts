import { randomBytes } from 'node:crypto'
import { link, open, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { SeamError } from '../../channel/errors.js'

/**
 * The first bytes of every message file: 0x89 keeps text tools from taking
 * the file for text, CR LF and 0x1A catch a transfer that rewrote line ends
 * (PNG's trick).
 */
export const MAGIC = Buffer.from([0x89, 0x53, 0x45, 0x41, 0x4d, 0x0d, 0x0a, 0x1a]) // \x89SEAM\r\n\x1a

/** The record format after the header: 1 = the TCP transport's frames (4-byte big-endian length, then the msgpack envelope). */
export const FORMAT_VERSION = 1

/** Magic number, then the format version as a 4-byte big-endian integer; the first record starts here. */
export const HEADER_BYTES = MAGIC.length + 4

/** The header a new file starts with. */
function header(): Buffer {
  const out = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(out, 0)
  out.writeUInt32BE(FORMAT_VERSION, MAGIC.length)
  return out
}

/** Reads and checks the header; throws ERR_PROTOCOL saying what the file is instead. */
export async function checkHeader(fh: FileHandle, path: string): Promise<void> {
  const buf = Buffer.alloc(HEADER_BYTES)
  const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0)
  if (bytesRead < HEADER_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SeamError('ERR_PROTOCOL', `${path} is not a seam-channel message file (it does not start with the magic number); point the URL at a file a file:// channel wrote`)
  }
  const version = buf.readUInt32BE(MAGIC.length)
  if (version !== FORMAT_VERSION) {
    throw new SeamError('ERR_PROTOCOL', `${path} is in message file format version ${version}; this seam-channel reads version ${FORMAT_VERSION}: read it with the version that wrote it`)
  }
}

/**
 * Creates `path` with its header unless it exists. The header is written to
 * a temporary file first and linked into place, so no reader or writer ever
 * sees the file without its header, and two processes creating it at once
 * cannot both write one.
 */
export async function createIfMissing(path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, header(), { flag: 'wx' })
  try {
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}

/** Opens `path`, turning the system's error into one that says what to do. */
export async function openFile(path: string, flags: string, where: string): Promise<FileHandle> {
  try {
    return await open(path, flags)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const hint = code === 'ENOENT' ? ': no such file (connect() creates it; start the writer first, or check the path)' : code === 'EACCES' ? ': permission denied' : ''
    throw new SeamError('ERR_TRANSPORT', `${where}: cannot open ${path}${hint} (${code ?? String(err)})`, { cause: err })
  }
}
