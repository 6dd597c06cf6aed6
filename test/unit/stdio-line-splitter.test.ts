import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/transports/stdio/line-splitter.js'

function feed(max: number, chunks: readonly string[], end = true): string[] {
  const out: string[] = []
  const s = new LineSplitter(max)
  const onLine = (b: Buffer, start: number, stop: number): void => void out.push(b.toString('utf8', start, stop))
  const onTooLong = (head: Buffer, length: number): void => void out.push(`too long: ${length} bytes from "${head.toString().slice(0, 4)}"`)
  for (const c of chunks) s.push(Buffer.from(c), onLine, onTooLong)
  if (end) s.end(onLine, onTooLong)
  return out
}

describe('stdio line splitter', () => {
  it('splits on \\n and \\r\\n, joins lines cut across chunks, and keeps a last line without a break', () => {
    expect(feed(100, ['a\nb', 'c\r\n', 'd', '', 'e\n\nf'])).toEqual(['a', 'bc', 'de', '', 'f'])
    expect(feed(100, ['x\ny'], false)).toEqual(['x'])
  })

  it('skips a line over the limit, reports its length, and goes on with the next', () => {
    expect(feed(5, ['ok\n0123456789\nfine\n'])).toEqual(['ok', 'too long: 10 bytes from "0123"', 'fine'])
    // Cut across chunks, and at the end of the input.
    expect(feed(5, ['abc', 'defgh', 'ij\nnext\nlast', 'line!'])).toEqual(['too long: 10 bytes from "abcd"', 'next', 'too long: 9 bytes from "last"'])
  })
})
