/**
 * Envelope ↔ Kafka record, as in DESIGN.md: value = body, key = the ordering
 * key, envelope fields as `seam-*` headers, user headers as they are. A plain
 * Kafka consumer reads the tag from `seam-tag`; a record a plain producer
 * sends with a `seam-tag` header is dispatched by it.
 *
 * Unlike DESIGN.md, a record carries only the headers its reader needs:
 * every header costs the client and the broker on every record (the test
 * broker's rate fell by a quarter with `seam-id` beside `seam-tag`). So `ts`
 * is the record's own timestamp, `ct` travels only when it is not msgpack,
 * and `seam-id` only on a request, where it is the correlation id its reply
 * carries back. A record without `seam-id` is known by its place in the log,
 * `<topic>/<partition>@<offset>`: the same id at every redelivery, which is
 * what a handler that deduplicates needs.
 */
import { DEFAULT_CONTENT_TYPE, tagProblem, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { asciiString } from '../../channel/ascii.js'
import type { IncomingRecord, OutgoingRecord } from './client.js'
import { asBuffer } from '../../channel/bytes.js'

export const H = {
  tag: 'seam-tag',
  id: 'seam-id',
  ts: 'seam-ts',
  ct: 'seam-ct',
  corr: 'seam-corr',
  replyTo: 'seam-reply-to',
  /** Which requester a reply is for, when several share one reply topic. */
  replyFor: 'seam-reply-for',
} as const

const OURS = new Set<string>(Object.values(H))
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A reply address: the reply topic, and after `#` the requester it is for. */
export function replyAddress(topic: string, requester: string): string {
  return `${topic}#${requester}`
}

/** Splits a reply address into the topic and the requester (absent for a plain topic). */
export function parseReplyAddress(address: string): { topic: string; requester: string | undefined } {
  const hash = address.lastIndexOf('#')
  return hash < 0 ? { topic: address, requester: undefined } : { topic: address.slice(0, hash), requester: address.slice(hash + 1) }
}

/** The record for `env`; `replyFor` marks a reply for one requester of a shared reply topic. */
export function toRecord(env: Envelope, replyFor: string | undefined): OutgoingRecord {
  const headers: Record<string, string> = { ...env.headers, [H.tag]: env.tag }
  if (env.replyTo !== undefined) headers[H.id] = env.id
  if (env.ct !== DEFAULT_CONTENT_TYPE) headers[H.ct] = env.ct
  if (env.corr !== undefined) headers[H.corr] = env.corr
  if (env.replyTo !== undefined) headers[H.replyTo] = env.replyTo
  if (replyFor !== undefined) headers[H.replyFor] = replyFor
  return { key: env.key, value: asBuffer(env.body), timestamp: env.ts, headers }
}

function text(bytes: Buffer, name: string, r: IncomingRecord): string {
  const ascii = asciiString(bytes, 0, bytes.length)
  if (ascii !== undefined) return ascii
  try {
    return utf8.decode(bytes)
  } catch (err) {
    throw new SeamError('ERR_PROTOCOL', `${where(r)}: header "${name}" is not UTF-8 text`, { cause: err })
  }
}

/** The id of a record that came without `seam-id`: its place in the log. */
export function recordId(r: IncomingRecord): string {
  return `${r.topic}/${r.partition}@${r.offset}`
}

function where(r: IncomingRecord): string {
  return `record ${r.topic}/${r.partition}@${r.offset}`
}

/**
 * Reads a fetched record as an envelope, and which requester a reply is for.
 * @throws SeamError `ERR_PROTOCOL` when it has no valid `seam-tag`, or a header is not UTF-8.
 */
export function fromRecord(r: IncomingRecord): { envelope: Envelope; replyFor: string | undefined } {
  const h: Record<string, string> = {}
  const user: Record<string, string> = {}
  for (const name in r.headers) {
    const value = r.headers[name]
    if (value === undefined) continue
    const s = text(value, name, r)
    if (OURS.has(name)) h[name] = s
    else user[name] = s
  }
  const tag = h[H.tag]
  const problem = tagProblem(tag)
  if (problem !== undefined) {
    throw new SeamError('ERR_PROTOCOL', `${where(r)} has ${tag === undefined ? `no "${H.tag}" header, which must hold the message tag` : `a bad "${H.tag}" header: ${problem}`}`, { id: h[H.id] ?? recordId(r) })
  }
  // seam-ts: from a producer that sets it; ours sends the record timestamp.
  const ts = h[H.ts] === undefined ? r.timestamp : Number(h[H.ts])
  const envelope: Envelope = {
    tag: tag as string,
    id: h[H.id] ?? recordId(r),
    ts: Number.isFinite(ts) ? ts : 0,
    ct: h[H.ct] ?? DEFAULT_CONTENT_TYPE,
    corr: h[H.corr],
    replyTo: h[H.replyTo],
    key: r.key === null ? undefined : r.key.toString('utf8'),
    headers: user,
    body: r.value ?? Buffer.alloc(0),
  }
  return { envelope, replyFor: h[H.replyFor] }
}
