/**
 * The JSON-lines format of stdio: one envelope per line, readable by `jq`
 * and `grep` and writable by hand or by another language:
 *
 *   {"tag":"demo.Ping","id":"…","ts":1700000000000,"headers":{"a":"b"},"body":{"seq":1}}
 *
 * A JSON body (`ct` application/json, what the json serde writes) is the
 * line's `body` value as it is; any other content type travels as
 * `"ct":…,"bodyBase64":…`. Only `tag` and a body are required when reading:
 * a hand-written line gets a fresh id and the time it was read.
 */
import { EMPTY_HEADERS, tagProblem, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { newId } from '../../channel/id.js'
// The content type whose bodies a line carries as their JSON value.
import { JSON_CT } from '../../serde/json.js'
import type { OutboxFormat } from '../stream/outbox.js'

const NEWLINE = 0x0a
const RETURN = 0x0d

/** A JSON body as text on one line: JSON allows a raw line break only as whitespace between tokens, so a space stands in for it. */
function bodyText(body: Uint8Array): string {
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8')
  return body.includes(NEWLINE) || body.includes(RETURN) ? text.replace(/[\r\n]/g, ' ') : text
}

/** The line of `env`, newline included. */
export function envelopeLine(env: Envelope): string {
  let line = `{"tag":${JSON.stringify(env.tag)},"id":${JSON.stringify(env.id)},"ts":${env.ts}`
  if (env.corr !== undefined) line += `,"corr":${JSON.stringify(env.corr)}`
  if (env.replyTo !== undefined) line += `,"replyTo":${JSON.stringify(env.replyTo)}`
  if (env.key !== undefined) line += `,"key":${JSON.stringify(env.key)}`
  if (env.headers !== EMPTY_HEADERS && Object.keys(env.headers).length > 0) line += `,"headers":${JSON.stringify(env.headers)}`
  // An empty body is no JSON value, so it travels as base64 like any other bytes.
  if (env.ct === JSON_CT && env.body.length > 0) return `${line},"body":${bodyText(env.body)}}\n`
  return `${line},"ct":${JSON.stringify(env.ct)},"bodyBase64":"${Buffer.from(env.body.buffer, env.body.byteOffset, env.body.length).toString('base64')}"}\n`
}

// Room for three bytes per UTF-16 unit is cheap for a short line; a long one is measured instead.
const SHORT_LINE = 16 * 1024

/** The json format in an `Outbox`: each envelope's line, newline included, its limit counted in UTF-8 bytes. */
export const LINES: OutboxFormat<string> = {
  unit: 'line',
  lengthBytes: 0,
  message: envelopeLine,
  bound: (line) => (line.length <= SHORT_LINE ? line.length * 3 : Buffer.byteLength(line)),
  write: (buf, pos, line) => pos + buf.write(line, pos),
}

function problem(message: string, id?: string): SeamError {
  return new SeamError('ERR_PROTOCOL', `malformed JSON line: ${message}`, { id })
}

function optionalString(o: Record<string, unknown>, field: string, id: string | undefined): string | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw problem(`"${field}" must be a string`, id)
  return v
}

/**
 * The envelope on one line (without its newline).
 * @throws SeamError `ERR_PROTOCOL` naming what is wrong with the line.
 */
export function readLine(text: string): Envelope {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw problem(`not JSON (${err instanceof Error ? err.message : String(err)}): ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw problem('not a JSON object')
  const o = raw as Record<string, unknown>
  const id = o.id === undefined ? undefined : typeof o.id === 'string' && o.id.length > 0 ? o.id : undefined
  if (o.id !== undefined && id === undefined) throw problem('"id" must be a non-empty string')
  const tag = tagProblem(o.tag)
  if (tag !== undefined) throw problem(o.tag === undefined ? '"tag" is missing' : tag, id)
  if (o.ts !== undefined && typeof o.ts !== 'number') throw problem('"ts" must be a number', id)
  const ct = optionalString(o, 'ct', id)
  let body: Uint8Array
  if (o.bodyBase64 !== undefined) {
    if (o.body !== undefined) throw problem('a line has "body" or "bodyBase64", not both', id)
    if (typeof o.bodyBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.bodyBase64)) throw problem('"bodyBase64" must be a base64 string', id)
    if (ct === undefined) throw problem('"bodyBase64" needs "ct", the content type of its bytes', id)
    body = Buffer.from(o.bodyBase64, 'base64')
  } else {
    if (!('body' in o)) throw problem('"body" is missing', id)
    if (ct !== undefined && ct !== JSON_CT) throw problem(`a "body" is a JSON value, so "ct" must be ${JSON_CT} or left out (got "${ct}"); bytes of other types go in "bodyBase64"`, id)
    body = Buffer.from(JSON.stringify(o.body))
  }
  let headers: Readonly<Record<string, string>> = EMPTY_HEADERS
  if (o.headers !== undefined && o.headers !== null) {
    if (typeof o.headers !== 'object' || Array.isArray(o.headers)) throw problem('"headers" must be an object', id)
    // JSON.parse makes "__proto__" an own property, never a prototype, so the parsed object is kept as it is.
    for (const v of Object.values(o.headers)) if (typeof v !== 'string') throw problem('header values must be strings', id)
    headers = o.headers as Record<string, string>
  }
  return {
    tag: o.tag as string,
    id: id ?? newId(),
    ts: (o.ts as number | undefined) ?? Date.now(),
    ct: ct ?? JSON_CT,
    corr: optionalString(o, 'corr', id),
    replyTo: optionalString(o, 'replyTo', id),
    key: optionalString(o, 'key', id),
    headers,
    body,
  }
}
