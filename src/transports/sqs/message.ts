/**
 * Envelope ↔ SQS message, as in DESIGN.md. SQS allows ten message attributes,
 * so the envelope takes three: `seam-tag` (the tag, for any plain consumer),
 * `seam-ct` (the body's content type) and `seam`, a JSON object with the
 * rest (`id`, `ts`, and when set `corr`, `replyTo`, `key`). Seven are left for
 * headers, one attribute each. A binary body travels base64; a JSON body as
 * the text it is, so a plain consumer reads it as it is.
 */
import { tagProblem, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import type { Attribute, IncomingMessage, OutgoingMessage } from './client.js'
import { asBuffer } from '../../channel/bytes.js'

/** The envelope's three message attributes. */
export const A = { tag: 'seam-tag', ct: 'seam-ct', packed: 'seam' } as const

/** SQS's limit on attributes per message. */
export const MAX_ATTRIBUTES = 10
/** Attributes left for headers. */
export const MAX_HEADERS = MAX_ATTRIBUTES - 3

/** Without `seam-ct`, a body is taken for what a plain producer most likely sent: JSON text. */
export const PLAIN_CONTENT_TYPE = 'application/json'

/** The envelope fields that do not have an attribute of their own. */
interface Packed {
  id?: string
  ts?: number
  corr?: string
  replyTo?: string
  key?: string
  /** A text content type whose body could not travel as text (not UTF-8, or characters SQS refuses) and went base64. */
  b64?: 1
  /** Headers that cannot be attributes: an empty value, or reserved ones past the ten. */
  h?: Record<string, string>
}

// What SQS accepts in a body or attribute value (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF).
const REFUSED_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
// Letters, digits, "_", "-", "."; no leading, trailing or double ".", and not the AWS prefixes.
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)(?!aws\.|amazon\.)[A-Za-z0-9_.-]{1,256}$/i
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })
const OURS = new Set<string>(Object.values(A))

/** JSON and text bodies travel as text. */
export function isTextType(ct: string): boolean {
  return ct.startsWith('application/json') || ct.startsWith('text/') || /\+json(;|$)/.test(ct)
}

function string(value: string): Attribute {
  return { DataType: 'String', StringValue: value }
}

/** The body as SQS text, and whether it went base64 although its type is text. */
function bodyText(env: Envelope): { text: string; b64: boolean } {
  const bytes = asBuffer(env.body)
  if (isTextType(env.ct)) {
    let text: string | undefined
    try {
      text = utf8.decode(bytes)
    } catch {
      text = undefined
    }
    if (text !== undefined && text !== '' && !REFUSED_CHARS.test(text)) return { text, b64: false }
    return { text: bytes.toString('base64'), b64: true }
  }
  return { text: bytes.toString('base64'), b64: false }
}

/** Bytes SQS counts for a message: the body, and each attribute's name, type and value. */
export function messageSize(m: OutgoingMessage): number {
  let size = Buffer.byteLength(m.body)
  for (const name in m.attributes) {
    const a = m.attributes[name] as Attribute
    size += Buffer.byteLength(name) + a.DataType.length + Buffer.byteLength(a.StringValue ?? '')
  }
  return size
}

/**
 * The SQS message for `env`. On a FIFO queue the ordering key is the message
 * group and the envelope id the deduplication id; a message without a key
 * is a group of its own, so it waits for no other.
 * @throws SeamError `ERR_BAD_ARGUMENT` for headers SQS cannot carry (too many, a bad name or value).
 */
export function toMessage(env: Envelope, fifo: boolean): OutgoingMessage {
  const { text, b64 } = bodyText(env)
  const packed: Packed = { id: env.id, ts: env.ts }
  if (env.corr !== undefined) packed.corr = env.corr
  if (env.replyTo !== undefined) packed.replyTo = env.replyTo
  if (env.key !== undefined) packed.key = env.key
  if (b64) packed.b64 = 1
  const attributes: Record<string, Attribute> = { [A.tag]: string(env.tag), [A.ct]: string(env.ct) }
  let count = 0
  let extra: Record<string, string> | undefined
  for (const name in env.headers) {
    const value = env.headers[name] as string
    const reserved = name.startsWith('x-seam-')
    // SQS refuses empty values; ours (an error reply's, a dead letter's reason) must go whatever the user's took or held.
    if (value === '' || (reserved && (count >= MAX_HEADERS || REFUSED_CHARS.test(value)))) {
      ;(extra ??= {})[name] = value
      continue
    }
    if (!ATTRIBUTE_NAME.test(name) || OURS.has(name)) {
      throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${env.tag}" over SQS: header "${name}" is not a valid message attribute name (letters, digits, "_", "-", "."; no "AWS."/"Amazon." prefix; not ${[...OURS].map((n) => `"${n}"`).join(', ')})`, { tag: env.tag, id: env.id })
    }
    if (REFUSED_CHARS.test(value)) throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${env.tag}" over SQS: header "${name}" holds characters SQS refuses (control characters)`, { tag: env.tag, id: env.id })
    if (++count > MAX_HEADERS) {
      throw new SeamError('ERR_BAD_ARGUMENT', `cannot send "${env.tag}" over SQS: it allows ${MAX_ATTRIBUTES} attributes per message, the envelope takes 3, so at most ${MAX_HEADERS} headers (got ${Object.keys(env.headers).length})`, { tag: env.tag, id: env.id })
    }
    attributes[name] = string(value)
  }
  if (extra !== undefined) packed.h = extra
  attributes[A.packed] = string(JSON.stringify(packed))
  if (!fifo) return { body: text, attributes }
  return { body: text, attributes, groupId: env.key ?? env.id, deduplicationId: env.id }
}

function where(m: IncomingMessage): string {
  return `SQS message ${m.messageId}`
}

function readPacked(m: IncomingMessage): Packed | undefined {
  const raw = m.attributes[A.packed]?.StringValue
  if (raw === undefined) return undefined
  let p: unknown
  try {
    p = JSON.parse(raw)
  } catch (err) {
    throw new SeamError('ERR_PROTOCOL', `${where(m)}: attribute "${A.packed}" is not JSON`, { cause: err })
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new SeamError('ERR_PROTOCOL', `${where(m)}: attribute "${A.packed}" is not a JSON object`)
  const o = p as Record<string, unknown>
  for (const f of ['id', 'corr', 'replyTo', 'key'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'string') throw new SeamError('ERR_PROTOCOL', `${where(m)}: "${f}" in attribute "${A.packed}" must be a string`)
  }
  if (o.ts !== undefined && typeof o.ts !== 'number') throw new SeamError('ERR_PROTOCOL', `${where(m)}: "ts" in attribute "${A.packed}" must be a number`)
  if (o.h !== undefined && (typeof o.h !== 'object' || o.h === null || Object.values(o.h).some((v) => typeof v !== 'string'))) {
    throw new SeamError('ERR_PROTOCOL', `${where(m)}: "h" in attribute "${A.packed}" must map names to strings`)
  }
  return o as Packed
}

/**
 * Reads a received message as an envelope.
 * @throws SeamError `ERR_PROTOCOL` when it has no valid `seam-tag` attribute,
 *   its `seam` attribute is malformed, or a binary body is not base64.
 */
export function fromMessage(m: IncomingMessage): Envelope {
  const tag = m.attributes[A.tag]?.StringValue
  const packed = readPacked(m)
  const problem = tagProblem(tag)
  if (problem !== undefined) {
    throw new SeamError('ERR_PROTOCOL', `${where(m)} has ${tag === undefined ? `no "${A.tag}" attribute, which must hold the message tag` : `a bad "${A.tag}" attribute: ${problem}`}`, { id: packed?.id })
  }
  const ct = m.attributes[A.ct]?.StringValue ?? PLAIN_CONTENT_TYPE
  let body: Buffer
  if (isTextType(ct) && packed?.b64 !== 1) body = Buffer.from(m.body, 'utf8')
  else if (m.body.length % 4 === 0 && BASE64.test(m.body)) body = Buffer.from(m.body, 'base64')
  else throw new SeamError('ERR_PROTOCOL', `${where(m)}: the body of a "${ct}" message must be base64, and is not`, { id: packed?.id })
  let headers: Record<string, string> | undefined
  for (const name in m.attributes) {
    if (OURS.has(name)) continue
    const value = m.attributes[name]?.StringValue
    if (value !== undefined) (headers ??= {})[name] = value
  }
  if (packed?.h !== undefined) headers = { ...headers, ...packed.h }
  const sent = Number(m.system.SentTimestamp)
  return {
    tag: tag as string,
    // A plain producer sends no id: SQS's own stands in for it (replies and reports need one).
    id: packed?.id ?? m.system.MessageDeduplicationId ?? m.messageId,
    ts: packed?.ts ?? (Number.isFinite(sent) ? sent : 0),
    ct,
    corr: packed?.corr,
    replyTo: packed?.replyTo,
    // Ours carry the key (a keyless FIFO message's group is its id, which orders nothing); a plain producer's group is its key.
    key: packed === undefined ? m.system.MessageGroupId : packed.key,
    headers: headers ?? {},
    body,
  }
}
