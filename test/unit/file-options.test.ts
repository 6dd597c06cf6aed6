import { describe, expect, it } from 'vitest'
import { FileCursor } from '../../src/transports/file/cursor.js'
import { readFileOptions } from '../../src/transports/file/options.js'
import { codeOf } from '../helpers.js'

const url = (s: string): URL => new URL(s)

describe('file: URL and options', () => {
  it('reads the path and the defaults: from the start, no follow, not durable', () => {
    const o = readFileOptions(url('file:///var/data/orders%20eu.seam'), {}, 'listen')
    expect(o).toMatchObject({ path: '/var/data/orders eu.seam', from: 'start', follow: false, durable: false, pollMs: 200, maxFrameBytes: 16 * 1024 * 1024 })
  })

  it('reads from, follow and pollMs from the query; the option object wins', () => {
    expect(readFileOptions(url('file:///d/x.seam?from=end&follow=true&pollMs=50'), {}, 'listen')).toMatchObject({ from: 'end', follow: true, pollMs: 50 })
    expect(readFileOptions(url('file:///d/x.seam?from=1234'), {}, 'listen').from).toBe(1234)
    expect(readFileOptions(url('file:///d/x.seam?from=end'), { file: { from: 'start' } }, 'listen').from).toBe('start')
    expect(readFileOptions(url('file:///d/x.seam?durable=true'), {}, 'connect').durable).toBe(true)
    const cursor = new FileCursor()
    expect(readFileOptions(url('file:///d/x.seam'), { file: { cursor } }, 'listen').cursor).toBe(cursor)
  })

  it('refuses a malformed URL with ERR_BAD_URL naming the part', () => {
    for (const bad of ['file://host/x.seam', 'file:///', 'file:///d/', 'file:///d/x.seam?nope=1', 'file:///d/x.seam?follow=yes', 'file:///d/x.seam?from=middle', 'file:///d/x.seam?pollMs=-1', 'file:///d/x.seam#f', 'file:///d/%E0%A4%A.seam']) {
      expect(codeOf(() => readFileOptions(url(bad), {}, 'listen')), bad).toBe('ERR_BAD_URL')
    }
    expect(() => readFileOptions(url('file://host/x.seam'), {}, 'listen')).toThrow(/three slashes/)
  })

  it('refuses options of the other side, and bad values, with ERR_BAD_ARGUMENT naming the option', () => {
    expect(() => readFileOptions(url('file:///d/x.seam?follow=true'), {}, 'connect')).toThrow(/follow only apply to a reader/)
    expect(() => readFileOptions(url('file:///d/x.seam?durable=true'), {}, 'listen')).toThrow(/only apply to a writer/)
    const cases: [object, RegExp][] = [
      [{ from: -1 }, /file\.from/],
      [{ from: 'middle' }, /file\.from/],
      [{ follow: 'yes' }, /file\.follow/],
      [{ pollMs: 0 }, /file\.pollMs/],
      [{ cursor: { offset: 3 } }, /FileCursor/],
      [{ maxFrameBytes: 0 }, /file\.maxFrameBytes/],
    ]
    for (const [file, message] of cases) {
      expect(codeOf(() => readFileOptions(url('file:///d/x.seam'), { file } as never, 'listen'))).toBe('ERR_BAD_ARGUMENT')
      expect(() => readFileOptions(url('file:///d/x.seam'), { file } as never, 'listen')).toThrow(message)
    }
  })
})

describe('file: option messages', () => {
  it('names what from may be, and the writer options given to a reader', () => {
    expect(() => readFileOptions(url('file:///d/x.seam'), { file: { from: 'middle' } } as never, 'listen')).toThrow(/option "file\.from" must be "start", "end" or a byte offset \(got "middle"\)/)
    expect(() => readFileOptions(url('file:///d/x.seam'), { file: { maxOutboxBytes: 1024 } }, 'listen')).toThrow(/maxOutboxBytes only apply to a writer/)
    expect(() => readFileOptions(url('file:///d/x.seam?from=middle'), {}, 'listen')).toThrow(/query parameter "from" must be start, end or a byte offset \(got "middle"\)/)
  })
})

describe('file: cursor', () => {
  it('moves past a record only once every record before it is settled', () => {
    const cursor = new FileCursor()
    expect(cursor.offset).toBe(-1)
    cursor.begin(12)
    const a = cursor.add(20)
    const b = cursor.add(35)
    const c = cursor.add(50)
    expect(cursor.read).toBe(50)
    cursor.settle(b)
    expect(cursor.offset).toBe(12)
    cursor.settle(a)
    expect(cursor.offset).toBe(35)
    cursor.settle(a)
    cursor.settle(c)
    expect(cursor.offset).toBe(50)
  })

  it('keeps counting right over many records settled out of order', () => {
    const cursor = new FileCursor()
    cursor.begin(0)
    const ids = Array.from({ length: 20_000 }, (_, i) => cursor.add((i + 1) * 10))
    // Settle in pairs, the second of each pair first; collect what went wrong, to assert once.
    const wrong: string[] = []
    for (let i = 0; i < ids.length; i += 2) {
      cursor.settle(ids[i + 1] as number)
      if (cursor.offset !== i * 10) wrong.push(`after record ${i + 1}: ${cursor.offset}`)
      cursor.settle(ids[i] as number)
      if (cursor.offset !== (i + 2) * 10) wrong.push(`after record ${i}: ${cursor.offset}`)
    }
    expect(wrong).toEqual([])
    expect(cursor.offset).toBe(200_000)
  })
})

describe('file: cursor read', () => {
  it('is the end of the last record read, also once every record was settled and let go', () => {
    const cursor = new FileCursor()
    cursor.begin(12)
    expect(cursor.read).toBe(12)
    // 4097 settled in order: the cursor lets go of all of them at once.
    const ids = Array.from({ length: 4097 }, (_, i) => cursor.add(12 + (i + 1) * 10))
    expect(cursor.read).toBe(40_982)
    for (const id of ids) cursor.settle(id)
    expect({ offset: cursor.offset, read: cursor.read }).toEqual({ offset: 40_982, read: 40_982 })
    cursor.settle(cursor.add(41_000))
    expect({ offset: cursor.offset, read: cursor.read }).toEqual({ offset: 41_000, read: 41_000 })
  })
})
