import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
import { decodeUrlPart, type QueryKind, queryOptions } from '../../channel/url.js'
import { FileCursor } from './cursor.js'

/**
 * The `file` option of `connect('file:///…')` and `listen('file:///…')`.
 * `from`, `follow`, `durable` and `pollMs` can also be given in the URL's
 * query (`file:///var/data/orders.seam?from=end&follow=true`); a field given
 * here wins.
 */
export interface FileOptions {
  /** listen: where to start reading: `'start'` (default), `'end'` (only records appended from now on), or a byte offset a {@link FileCursor} reported. */
  from?: 'start' | 'end' | number
  /** listen: keep reading as the file grows, like `tail -f` (default false: stop at the end, and the channel closes). */
  follow?: boolean
  /** listen: reports the reader's position, to start again from it. */
  cursor?: FileCursor
  /** listen with `follow`: the longest wait before looking at the file again when no change notice came (default 200 ms). */
  pollMs?: number
  /**
   * connect: `send` resolves once its record is `fdatasync`ed to the disk
   * (survives a power cut), rather than once it is written to the operating
   * system (survives the process dying, not the machine). Default false.
   */
  durable?: boolean
  /** Largest record, in bytes (default 16 MiB); a longer length prefix is read as damage. */
  maxFrameBytes?: number
  /** connect: most bytes waiting to be written before `send` rejects with `ERR_OUTBOX_FULL` (default 64 MiB). */
  maxOutboxBytes?: number
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** file: where to read from, following, durability (see {@link FileOptions}). */
    file?: FileOptions
  }
}

/** File options with every default filled in. */
export interface ResolvedFileOptions {
  readonly path: string
  readonly from: 'start' | 'end' | number
  readonly follow: boolean
  readonly cursor: FileCursor | undefined
  readonly pollMs: number
  readonly durable: boolean
  readonly maxFrameBytes: number
  readonly maxOutboxBytes: number
  /** The URL, for messages and `server.url`. */
  readonly where: string
}

const QUERY: Readonly<Record<string, QueryKind>> = { from: 'string', follow: 'boolean', durable: 'boolean', pollMs: 'number' }
const READER_ONLY = ['from', 'follow', 'cursor', 'pollMs'] as const
const WRITER_ONLY = ['durable', 'maxOutboxBytes'] as const
const { whole, flag } = optionChecks('file')

/** The URL's query as options; `from` is `start`, `end` or a byte offset. */
function fromQuery(url: URL, where: string): FileOptions {
  const { from, ...rest } = queryOptions(url, where, QUERY) as Omit<FileOptions, 'from'> & { from?: string }
  if (from === undefined) return rest
  if (from !== 'start' && from !== 'end' && !/^\d+$/.test(from)) throw new SeamError('ERR_BAD_URL', `${where}: query parameter "from" must be start, end or a byte offset (got "${from}")`)
  return { ...rest, from: from === 'start' || from === 'end' ? from : Number(from) }
}

/** The absolute path a `file:` URL names; throws ERR_BAD_URL naming the bad part. */
function filePath(url: URL): string {
  const shown = `file://${url.host}${url.pathname}`
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw new SeamError('ERR_BAD_URL', `${shown}: a file URL names a local path, with three slashes (file:///abs/path.seam); "${url.hostname}" reads as a host`)
  }
  if (url.username !== '' || url.password !== '' || url.port !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a file URL takes no user, password or port`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a file URL takes no fragment`)
  let path = decodeUrlPart(url.pathname, 'the path', shown)
  if (path === '' || path === '/' || path.endsWith('/')) throw new SeamError('ERR_BAD_URL', `${shown}: the path names a folder, not a file (file:///abs/path.seam)`)
  if (path.includes('\0')) throw new SeamError('ERR_BAD_URL', `${shown}: the path holds a NUL byte`)
  return path
}

/** Reads the URL and the `file` option of one side; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT` naming the bad part. */
export function readFileOptions(url: URL, given: { file?: FileOptions } | undefined, side: 'connect' | 'listen'): ResolvedFileOptions {
  const path = filePath(url)
  const shown = `file://${path}`
  const where = `${side}(${shown})`
  const raw = given?.file
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "file" must be an object')
  const o: FileOptions = { ...fromQuery(url, where), ...raw }
  const wrongSide = (side === 'connect' ? READER_ONLY : WRITER_ONLY).filter((k) => o[k] !== undefined)
  if (wrongSide.length > 0) throw bad(where, `${wrongSide.join(', ')} only apply to a ${side === 'connect' ? 'reader (listen)' : 'writer (connect)'}`)
  const from = o.from ?? 'start'
  if (from !== 'start' && from !== 'end' && !(typeof from === 'number' && Number.isSafeInteger(from) && from >= 0)) {
    throw bad(where, `option "file.from" must be "start", "end" or a byte offset (got ${JSON.stringify(from)})`)
  }
  if (o.cursor !== undefined && !(o.cursor instanceof FileCursor)) throw bad(where, 'option "file.cursor" must be a FileCursor (new FileCursor())')
  return {
    path,
    from,
    follow: flag(o.follow, 'follow', where) ?? false,
    cursor: o.cursor,
    pollMs: whole(o.pollMs, 'pollMs', 1, 60_000, where) ?? 200,
    durable: flag(o.durable, 'durable', where) ?? false,
    maxFrameBytes: whole(o.maxFrameBytes, 'maxFrameBytes', 1, 0xffffffff, where) ?? 16 * 1024 * 1024,
    maxOutboxBytes: whole(o.maxOutboxBytes, 'maxOutboxBytes', 1, Number.MAX_SAFE_INTEGER, where) ?? 64 * 1024 * 1024,
    where: shown,
  }
}
