import { describe, expect, it } from 'vitest'
import { asciiString } from '../../src/channel/ascii.js'
import { newId } from '../../src/channel/id.js'

describe('newId', () => {
  it('counts up in base 36 after one fixed prefix, through every carry and a new digit', () => {
    // 50 000 ids take the counter through 9→a, z→10, zz→100 and zzz→1000 (36³ = 46 656).
    const ids = Array.from({ length: 50_000 }, () => newId())
    const prefix = (ids[0] as string).slice(0, 12)
    expect(prefix).toMatch(/^[A-Za-z0-9_-]{12}$/)
    let previous = -1
    for (const id of ids) {
      expect(id.startsWith(prefix)).toBe(true)
      const tail = id.slice(12)
      expect(tail).toMatch(/^[1-9a-z][0-9a-z]*$/)
      const n = parseInt(tail, 36)
      if (previous >= 0) expect(n).toBe(previous + 1)
      previous = n
    }
    expect(new Set(ids).size).toBe(ids.length)
  })
})

describe('asciiString', () => {
  const bytes = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1')

  it('builds every length from 0 to 24 at any offset', () => {
    for (let n = 0; n <= 24; n++) for (const at of [0, 3]) expect(asciiString(bytes, at, at + n)).toBe(bytes.toString('latin1', at, at + n))
  })

  it('leaves longer ranges and any non-ASCII byte to the caller', () => {
    expect(asciiString(bytes, 0, 25)).toBeUndefined()
    expect(asciiString(Buffer.from('abcé', 'utf8'), 0, 5)).toBeUndefined()
    expect(asciiString(Buffer.from([0x61, 0x80]), 0, 2)).toBeUndefined()
  })
})
