import { randomBytes } from 'node:crypto'
import { asciiString } from './ascii.js'

// An id is a process-unique random prefix plus a base-36 counter: unique, ordered, and far cheaper
// than a UUID per message. The counter is kept as ASCII digits after the prefix, so a new id is an
// increment and one flat string. A template literal (`${prefix}${n.toString(36)}`) would make a cons
// string, which the frame writer must flatten when it reads the first character: ~100 ns per send.
const PREFIX = Buffer.from(randomBytes(9).toString('base64url'), 'latin1')
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
const LETTER_A = 0x61
const LETTER_Z = 0x7a
// Room for 13 digits: 36^13 ids, more than any process sends.
const bytes = Buffer.alloc(PREFIX.length + 13, DIGIT_0)
PREFIX.copy(bytes)
let end = PREFIX.length + 1

/** A new envelope id, unique across processes with overwhelming probability. */
export function newId(): string {
  let i = end - 1
  for (;;) {
    const c = bytes[i] as number
    if (c === DIGIT_9) bytes[i] = LETTER_A
    else if (c !== LETTER_Z) bytes[i] = c + 1
    else {
      bytes[i] = DIGIT_0
      if (--i >= PREFIX.length) continue
      // Every digit carried: one digit more, a leading 1 (the digits after it are all 0 now).
      bytes[end++] = DIGIT_0
      bytes[PREFIX.length] = DIGIT_0 + 1
    }
    break
  }
  return asciiString(bytes, 0, end) ?? bytes.toString('latin1', 0, end)
}
