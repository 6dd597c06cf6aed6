/**
 * Envelope ↔ stream entry, as in DESIGN.md: one entry per message, envelope
 * fields as entry fields, the body as a binary field. A plain client reads
 * the tag from `tag` and the body from `body`; an entry a plain client adds
 * with those two fields is dispatched by its tag.
 *
 * Every entry carries `tag`, `id`, `ts` and `body`, so a message moved from
 * another transport (a bridge) keeps its id and time; `ct` travels only when
 * it is not msgpack, the rest only when set. User headers are fields named
 * `h:<name>`, so no header can shadow an envelope field.
 */
import { asciiString } from '../../channel/ascii.js'
import { asBuffer } from '../../channel/bytes.js'
import { DEFAULT_CONTENT_TYPE, EMPTY_HEADERS, tagProblem, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import type { BrokenEnvelope } from '../../channel/transport.js'
import type { StreamEntry } from './client.js'

const F = {
  tag: 'tag',
  id: 'id',
  ts: 'ts',
  ct: 'ct',
  corr: 'corr',
  replyTo: 'reply-to',
  key: 'key',
  body: 'body',
} as const

/** Prefix of the fields that carry user headers. */
const HEADER_FIELD = 'h:'

/** The flat field list `XADD` takes for `env`. */
export function toFields(env: Envelope): (string | Buffer)[] {
  const ts = String(env.ts)
  // The usual entry as one literal of its final size: an array grown by push is copied as it grows.
  if (env.ct === DEFAULT_CONTENT_TYPE && env.corr === undefined && env.replyTo === undefined && env.key === undefined && env.headers === EMPTY_HEADERS) {
    return [F.tag, env.tag, F.id, env.id, F.ts, ts, F.body, asBuffer(env.body)]
  }
  const out: (string | Buffer)[] = [F.tag, env.tag, F.id, env.id, F.ts, ts]
  if (env.ct !== DEFAULT_CONTENT_TYPE) out.push(F.ct, env.ct)
  if (env.corr !== undefined) out.push(F.corr, env.corr)
  if (env.replyTo !== undefined) out.push(F.replyTo, env.replyTo)
  if (env.key !== undefined) out.push(F.key, env.key)
  for (const name in env.headers) out.push(HEADER_FIELD + name, env.headers[name] as string)
  out.push(F.body, asBuffer(env.body))
  return out
}

/** The envelope's own field names by length, as bytes: every entry of ours carries several of them. */
const KNOWN: (readonly [Buffer, string])[][] = []
for (const name of Object.values(F)) (KNOWN[name.length] ??= []).push([Buffer.from(name), name])

/** A field's name: one of the envelope's is matched byte by byte, not decoded into a new string each entry. */
function fieldName(b: Buffer): string {
  const candidates = KNOWN[b.length]
  if (candidates !== undefined) {
    next: for (const [bytes, name] of candidates) {
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== b[i]) continue next
      return name
    }
  }
  return b.toString('utf8')
}

/** The value of the field `name` of `entry`, or undefined. */
function fieldValue(entry: StreamEntry, name: string): Buffer | undefined {
  const f = entry.fields
  for (let i = 0; i + 1 < f.length; i += 2) if (fieldName(f[i] as Buffer) === name) return f[i + 1]
  return undefined
}

/** The fields of an entry read back, with `extra` headers added: what a dead letter carries on. */
export function copyFields(entry: StreamEntry, extra: Readonly<Record<string, string>>): (string | Buffer)[] {
  const out: (string | Buffer)[] = []
  const f = entry.fields
  let body: Buffer | undefined
  for (let i = 0; i + 1 < f.length; i += 2) {
    if (fieldName(f[i] as Buffer) === F.body) body = f[i + 1]
    else out.push(f[i] as Buffer, f[i + 1] as Buffer)
  }
  for (const name in extra) out.push(HEADER_FIELD + name, extra[name] as string)
  if (body !== undefined) out.push(F.body, body)
  return out
}

/**
 * The text of a tag field. Most entries of a stream carry one of a few tags:
 * the last one seen is kept with its bytes, so a run of one tag is compared,
 * not decoded into a new string per entry.
 */
let lastTag: { readonly bytes: Buffer; readonly text: string } | undefined
function tagText(b: Buffer): string {
  const last = lastTag
  if (last !== undefined && last.bytes.length === b.length) {
    let i = 0
    while (i < b.length && last.bytes[i] === b[i]) i++
    if (i === b.length) return last.text
  }
  const text = b.toString('utf8')
  // A copy: the entry's bytes are a view of a whole reply, which must not be kept alive.
  if (b.length <= 64) lastTag = { bytes: Buffer.from(b), text }
  return text
}

/** A decimal time stamp's value read from its bytes, or undefined when it is anything else (then `Number` of its text decides). */
function digits(b: Buffer): number | undefined {
  if (b.length === 0 || b.length > 15) return undefined
  let n = 0
  for (let i = 0; i < b.length; i++) {
    const d = (b[i] as number) - 0x30
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return n
}

/**
 * The envelope of `entry` read from `stream`. An entry without an `id`
 * (a plain client's) is known by its place, `<stream>@<entry id>`: the same
 * at every redelivery. Throws ERR_PROTOCOL naming the first field that is wrong.
 */
export function fromEntry(entry: StreamEntry, stream: string): Envelope {
  let tag: string | undefined
  let idText: string | undefined
  let tsBytes: Buffer | undefined
  let ct: string | undefined
  let corr: string | undefined
  let replyTo: string | undefined
  let key: string | undefined
  let body: Buffer | undefined
  let headers: Record<string, string> | undefined
  // One pass over the fields: a lookup for each envelope field, most of them absent, costs more than reading every field once.
  const f = entry.fields
  for (let i = 0; i + 1 < f.length; i += 2) {
    const value = f[i + 1] as Buffer
    const name = fieldName(f[i] as Buffer)
    switch (name) {
      case F.tag:
        tag = tagText(value)
        break
      case F.id:
        // Short ASCII (ours are): built in JavaScript, cheaper than a native decode per entry.
        idText = asciiString(value, 0, value.length) ?? value.toString('utf8')
        break
      case F.ts:
        tsBytes = value
        break
      case F.ct:
        ct = value.toString('utf8')
        break
      case F.corr:
        corr = value.toString('utf8')
        break
      case F.replyTo:
        replyTo = value.toString('utf8')
        break
      case F.key:
        key = value.toString('utf8')
        break
      case F.body:
        body = value
        break
      default:
        if (!name.startsWith(HEADER_FIELD)) break
        headers ??= {}
        headers[name.slice(HEADER_FIELD.length)] = value.toString('utf8')
    }
  }
  const fail = (problem: string): never => {
    throw new SeamError('ERR_PROTOCOL', `malformed stream entry ${stream}@${entry.id}: ${problem}`, { id: idText })
  }
  const problem = tagProblem(tag)
  if (problem !== undefined) fail(tag === undefined ? 'the "tag" field is missing' : problem)
  if (body === undefined) fail('the "body" field is missing')
  let tsText: string | undefined
  let ts = tsBytes === undefined ? Number(entry.id.slice(0, entry.id.indexOf('-'))) : digits(tsBytes)
  if (ts === undefined) {
    tsText = (tsBytes as Buffer).toString('utf8')
    ts = Number(tsText)
  }
  if (!Number.isFinite(ts)) fail(`the "ts" field is not a number ("${tsText}")`)
  return {
    tag: tag as string,
    id: idText === undefined || idText === '' ? `${stream}@${entry.id}` : idText,
    ts,
    ct: ct ?? DEFAULT_CONTENT_TYPE,
    corr,
    replyTo,
    key,
    headers: headers ?? EMPTY_HEADERS,
    body: body as Buffer,
  }
}

/** What an entry {@link fromEntry} refused is delivered as: its body's bytes (none when it has no body), and why. */
export function brokenEntry(entry: StreamEntry, err: unknown): BrokenEnvelope {
  return { bytes: fieldValue(entry, F.body) ?? Buffer.alloc(0), error: err as SeamError }
}
