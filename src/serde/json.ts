import { MAX_NESTING, jsonTooDeepAt } from './nesting.js'
import type { Serde } from './serde.js'

/** MIME type of {@link json}. */
export const JSON_CT = 'application/json'

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * JSON as UTF-8. Readable by any consumer of the broker; larger and slower
 * than msgpack, and binary values must be encoded by the codec first.
 */
export const json: Serde = {
  contentType: JSON_CT,
  encode: (value) => utf8.encode(JSON.stringify(value)),
  decode: (bytes) => {
    const at = jsonTooDeepAt(bytes)
    if (at >= 0) throw new Error(`arrays and objects nest deeper than ${MAX_NESTING} levels at byte ${at}`)
    // JSON.parse creates "__proto__" as an own property, never a prototype, so it is safe.
    return JSON.parse(fromUtf8.decode(bytes))
  },
}
