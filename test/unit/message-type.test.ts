import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { defineMessage, MAX_TAG_BYTES } from '../../src/index.js'
import { codeOf } from '../helpers.js'

describe('defineMessage', () => {
  const codec = t.type({ seq: t.number })

  it('keeps the tag and codec', () => {
    const Ping = defineMessage('demo.Ping', codec)
    expect(Ping.tag).toBe('demo.Ping')
    expect(Ping.codec).toBe(codec)
  })

  it('rejects an empty tag with ERR_BAD_ARGUMENT', () => {
    expect(codeOf(() => defineMessage('', codec))).toBe('ERR_BAD_ARGUMENT')
  })

  it('accepts exactly 255 UTF-8 bytes and rejects 256', () => {
    expect(defineMessage('a'.repeat(MAX_TAG_BYTES), codec).tag).toHaveLength(255)
    expect(() => defineMessage('a'.repeat(256), codec)).toThrow(/255/)
    expect(codeOf(() => defineMessage('a'.repeat(256), codec))).toBe('ERR_BAD_ARGUMENT')
  })

  it('counts multi-byte characters in UTF-8 bytes, not string length', () => {
    // 'é' is 2 UTF-8 bytes: 127 of them = 254 bytes (fine), 128 = 256 bytes (too long).
    expect(defineMessage('é'.repeat(127), codec).tag).toHaveLength(127)
    expect(codeOf(() => defineMessage('é'.repeat(128), codec))).toBe('ERR_BAD_ARGUMENT')
    // '€' is 3 bytes: 85 = 255 bytes, 86 = 258 bytes.
    expect(defineMessage('€'.repeat(85), codec).tag).toHaveLength(85)
    expect(codeOf(() => defineMessage('€'.repeat(86), codec))).toBe('ERR_BAD_ARGUMENT')
    // An emoji is 4 bytes in two UTF-16 units: 64 of them = 256 bytes.
    expect(codeOf(() => defineMessage('😀'.repeat(64), codec))).toBe('ERR_BAD_ARGUMENT')
    expect(defineMessage('😀'.repeat(63), codec).tag).toHaveLength(126)
  })

  it('reserves the $seam/ prefix', () => {
    expect(codeOf(() => defineMessage('$seam/error', codec))).toBe('ERR_BAD_ARGUMENT')
    expect(() => defineMessage('$seam/mine', codec)).toThrow(/reserved/)
    // Only the exact prefix is reserved.
    expect(defineMessage('$seamless', codec).tag).toBe('$seamless')
  })

  it('rejects a codec that is not an io-ts type', () => {
    expect(codeOf(() => defineMessage('x', {} as never))).toBe('ERR_BAD_ARGUMENT')
    expect(codeOf(() => defineMessage('x', undefined as never))).toBe('ERR_BAD_ARGUMENT')
  })

  it('rejects a non-string tag', () => {
    expect(codeOf(() => defineMessage(42 as unknown as string, codec))).toBe('ERR_BAD_ARGUMENT')
  })
})
