import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
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

const QUERY = ['from', 'follow', 'durable', 'pollMs'] as const
const READER_ONLY = ['from', 'follow', 'cursor', 'pollMs'] as const
const { whole, flag } = optionChecks('file')

function fromQuery(url: URL, where: string): FileOptions {
  const out: FileOptions = {}
  for (const name of new Set(url.searchParams.keys())) {
    if (!(QUERY as readonly string[]).includes(name)) throw new SeamError('ERR_BAD_URL', `${where}: unknown query parameter "${name}" (known: ${QUERY.join(', ')})`)
    const value = url.searchParams.getAll(name).at(-1) as string
    if (name === 'follow' || name === 'durable') {
      if (value !== 'true' && value !== 'false') throw new SeamError('ERR_BAD_URL', `${where}: query parameter "${name}" must be true or false (got "${value}")`)
      out[name] = value === 'true'
    } else if (name === 'from') {
      if (value !== 'start' && value !== 'end' && !/^\d+$/.test(value)) throw new SeamError('ERR_BAD_URL', `${where}: query parameter "from" must be start, end or a byte offset (got "${value}")`)
      out.from = value === 'start' || value === 'end' ? value : Number(value)
    } else {
      if (!/^\d+$/.test(value)) throw new SeamError('ERR_BAD_URL', `${where}: query parameter "pollMs" must be a whole number (got "${value}")`)
      out.pollMs = Number(value)
    }
  }
  return out
}

/** The absolute path a `file:` URL names; throws ERR_BAD_URL naming the bad part. */
export function filePath(url: URL): string {
  const shown = `file://${url.host}${url.pathname}`
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw new SeamError('ERR_BAD_URL', `${shown}: a file URL names a local path, with three slashes (file:///abs/path.seam); "${url.hostname}" reads as a host`)
  }
  if (url.username !== '' || url.password !== '' || url.port !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a file URL takes no user, password or port`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a file URL takes no fragment`)
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch (err) {
    throw new SeamError('ERR_BAD_URL', `${shown}: the path is not valid percent-encoding`, { cause: err })
  }
  if (path === '' || path === '/' || path.endsWith('/')) throw new SeamError('ERR_BAD_URL', `${shown}: the path names a folder, not a file (file:///abs/path.seam)`)
  if (path.includes('\0')) throw new SeamError('ERR_BAD_URL', `${shown}: the path holds a NUL byte`)
  return path
}

/** Reads the URL and the `file` option of one side; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT` naming the bad part. */
export function readFileOptions(url: URL, given: { file?: FileOptions } | undefined, side: 'connect' | 'listen'): ResolvedFileOptions {
  const path = filePath(url)
  const where = `${side}(file://${path})`
  const raw = given?.file
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "file" must be an object')
  const o: FileOptions = { ...fromQuery(url, where), ...raw }
  const wrongSide = side === 'connect' ? READER_ONLY.filter((k) => o[k] !== undefined) : o.durable !== undefined || o.maxOutboxBytes !== undefined ? ['durable or maxOutboxBytes'] : []
  if (wrongSide.length > 0) throw bad(where, `${wrongSide.join(', ')} ${side === 'connect' ? 'only apply to a reader (listen)' : 'only apply to a writer (connect)'}`)
  const from = o.from ?? 'start'
  if (from !== 'start' && from !== 'end' && whole(from, 'from', 0, Number.MAX_SAFE_INTEGER, where) === undefined) throw bad(where, 'option "file.from" must be "start", "end" or a byte offset')
  if (o.cursor !== undefined && !(o.cursor instanceof FileCursor)) throw bad(where, 'option "file.cursor" must be a FileCursor (new FileCursor())')
  const maxFrameBytes = whole(o.maxFrameBytes, 'maxFrameBytes', 1, 0xffffffff, where) ?? 16 * 1024 * 1024
  return {
    path,
    from,
    follow: flag(o.follow, 'follow', where) ?? false,
    cursor: o.cursor,
    pollMs: whole(o.pollMs, 'pollMs', 1, 60_000, where) ?? 200,
    durable: flag(o.durable, 'durable', where) ?? false,
    maxFrameBytes,
    maxOutboxBytes: whole(o.maxOutboxBytes, 'maxOutboxBytes', 1, Number.MAX_SAFE_INTEGER, where) ?? 64 * 1024 * 1024,
    where: `file://${path}`,
  }
}
