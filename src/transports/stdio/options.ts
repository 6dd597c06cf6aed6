import type { Readable, Writable } from 'node:stream'
import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'

/** How messages are written on a stdio stream. */
export type StdioFormat = 'frames' | 'json'

/**
 * The `stdio` option of `connect('stdio://')` and `listen('stdio://')`.
 * `format` can also be given in the URL (`stdio://?format=json`); a field
 * given here wins.
 */
export interface StdioOptions {
  /**
   * `frames` (default): the TCP transport's binary frames, a hello frame
   * first; exact for every content type and the fastest. `json`: one
   * envelope per line, the body as its JSON value (send with the json serde
   * for readable bodies; any other content type travels in `bodyBase64`).
   */
  format?: StdioFormat
  /** What `listen` reads (default `process.stdin`). */
  input?: Readable
  /** What `connect` writes (default `process.stdout`). */
  output?: Writable
  /** Largest frame or line accepted or sent, in bytes (default 16 MiB). */
  maxFrameBytes?: number
  /** Most messages waiting while the reader is slower than the sender (default 100 000); past it `send` rejects with `ERR_OUTBOX_FULL`. */
  maxOutboxMessages?: number
  /** Most bytes waiting while the reader is slower than the sender (default 64 MiB). */
  maxOutboxBytes?: number
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** stdio: the format, the streams to use instead of stdin/stdout, and limits (see {@link StdioOptions}). */
    stdio?: StdioOptions
  }
}

/** Stdio options with every default filled in. */
export interface ResolvedStdioOptions {
  readonly format: StdioFormat
  readonly input: Readable
  readonly output: Writable
  /** True when the streams are the process's own, which must never be ended or destroyed. */
  readonly ownInput: boolean
  readonly ownOutput: boolean
  readonly maxFrameBytes: number
  readonly maxOutboxMessages: number
  readonly maxOutboxBytes: number
  /** The URL as given, for messages and `server.url`. */
  readonly where: string
}

const FORMATS: readonly StdioFormat[] = ['frames', 'json']
const { count } = optionChecks('stdio')

/** The format named in the URL, after checking that the URL names nothing else. */
function fromUrl(url: URL): StdioFormat | undefined {
  const shown = url.href
  if (url.username !== '' || url.password !== '' || url.host !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a stdio URL names no host or user; it is stdio:// (or stdio://?format=json)`)
  if (url.pathname !== '' && url.pathname !== '/') throw new SeamError('ERR_BAD_URL', `${shown}: a stdio URL has no path (got "${url.pathname}"); to use other streams, give them as options stdio.input / stdio.output`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a stdio URL takes no fragment`)
  let format: StdioFormat | undefined
  for (const [name, value] of url.searchParams) {
    if (name !== 'format') throw new SeamError('ERR_BAD_URL', `${shown}: unknown query parameter "${name}" (known: format)`)
    if (!FORMATS.includes(value as StdioFormat)) throw new SeamError('ERR_BAD_URL', `${shown}: query parameter "format" must be ${FORMATS.join(' or ')} (got "${value}")`)
    format = value as StdioFormat
  }
  return format
}

function isStream(value: unknown, method: 'on' | 'write'): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function'
}

/** Reads the URL and the `stdio` option; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT` naming the bad part. */
export function readStdioOptions(url: URL, given: { stdio?: StdioOptions } | undefined, where: string): ResolvedStdioOptions {
  const urlFormat = fromUrl(url)
  const o = given?.stdio ?? {}
  if (typeof o !== 'object' || o === null) throw bad(where, 'option "stdio" must be an object')
  const format = o.format ?? urlFormat ?? 'frames'
  if (!FORMATS.includes(format)) throw bad(where, `option "stdio.format" must be ${FORMATS.map((f) => `"${f}"`).join(' or ')} (got ${JSON.stringify(format)})`)
  if (o.input !== undefined && !isStream(o.input, 'on')) throw bad(where, 'option "stdio.input" must be a readable stream')
  if (o.output !== undefined && !isStream(o.output, 'write')) throw bad(where, 'option "stdio.output" must be a writable stream')
  const maxFrameBytes = count(o.maxFrameBytes, 'maxFrameBytes', 16 * 1024 * 1024, where)
  if (maxFrameBytes > 0xffffffff) throw bad(where, `option "stdio.maxFrameBytes" is at most 4 GiB - 1 (got ${maxFrameBytes})`)
  return {
    format,
    input: o.input ?? process.stdin,
    output: o.output ?? process.stdout,
    ownInput: o.input === undefined || o.input === process.stdin,
    ownOutput: o.output === undefined || o.output === process.stdout || o.output === process.stderr,
    maxFrameBytes,
    maxOutboxMessages: count(o.maxOutboxMessages, 'maxOutboxMessages', 100_000, where),
    maxOutboxBytes: count(o.maxOutboxBytes, 'maxOutboxBytes', 64 * 1024 * 1024, where),
    where: format === 'frames' ? 'stdio://' : `stdio://?format=${format}`,
  }
}
