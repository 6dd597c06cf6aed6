import { describe, expect, it } from 'vitest'
import { IdWindow } from '../../src/channel/id-window.js'

describe('IdWindow (the bridge’s duplicate window)', () => {
  it('says a repeated id is a duplicate while it is among the last `size` ids, and forgets the oldest as new ones come', () => {
    const w = new IdWindow(3)
    expect(['a', 'b', 'a', 'c'].map((id) => w.add(id))).toEqual([true, true, false, true])
    // d pushes a out; a is new again, and pushes b out.
    expect(w.add('d')).toBe(true)
    expect(w.add('a')).toBe(true)
    expect(w.add('b')).toBe(true)
    expect(w.add('d')).toBe(false)
    expect(w.size).toBe(3)
  })

  it('stays bounded however many ids pass through it', () => {
    const w = new IdWindow(100)
    for (let i = 0; i < 10_000; i++) w.add(`id-${i}`)
    expect(w.size).toBe(100)
    expect(w.add('id-9999')).toBe(false)
    expect(w.add('id-9899')).toBe(true)
  })

  it('forgets an id handed back to its source, so its redelivery is forwarded', () => {
    const w = new IdWindow(3)
    w.add('a')
    w.add('b')
    w.delete('a')
    expect(w.add('a')).toBe(true)
    expect(w.add('b')).toBe(false)
    w.delete('never-seen')
    expect(w.size).toBe(2)
  })

  it('remembers nothing with size 0', () => {
    const w = new IdWindow(0)
    expect([w.add('a'), w.add('a')]).toEqual([true, true])
    expect(w.size).toBe(0)
  })
})
