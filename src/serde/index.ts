import { json } from './json.js'
import { msgpack } from './msgpack.js'
import type { Serde } from './serde.js'

export type { Serde } from './serde.js'
export { msgpack, createMsgpack, MSGPACK } from './msgpack.js'
export { json, JSON_CT } from './json.js'

/** The serdes a receiver knows by content type; extend with `SerdeSet.with`. */
export class SerdeSet {
  readonly #byType: Map<string, Serde>

  constructor(serdes: Iterable<Serde> = [msgpack, json]) {
    this.#byType = new Map([...serdes].map((s) => [s.contentType, s]))
  }

  /** The serde for a content type, or undefined when none is known. */
  get(contentType: string): Serde | undefined {
    return this.#byType.get(contentType)
  }

  /** A new set that also knows `serde` (replacing one of the same content type). */
  with(serde: Serde): SerdeSet {
    return new SerdeSet([...this.#byType.values(), serde])
  }

  /** Every content type this set reads. */
  contentTypes(): string[] {
    return [...this.#byType.keys()]
  }
}
