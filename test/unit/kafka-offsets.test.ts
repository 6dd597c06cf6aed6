import { describe, expect, it } from 'vitest'
import { PartitionOffsets } from '../../src/transports/kafka/offsets.js'

describe('PartitionOffsets', () => {
  it('commits up to the first record not done, whatever order records finish in', () => {
    const p = new PartitionOffsets('t', 0)
    expect(p.commitPoint).toBeUndefined()
    for (const o of [10, 11, 12, 14, 15]) p.fetched(o) // 13: a gap (compacted away, or a control record)
    p.done(11)
    expect(p.commitPoint).toBe(10)
    p.done(10)
    expect(p.commitPoint).toBe(12)
    p.done(15)
    p.done(12)
    expect(p.commitPoint).toBe(14)
    p.done(14)
    expect(p.commitPoint).toBe(16)
  })

  it('in order, each done moves the commit point by one; a record never done holds it', () => {
    const p = new PartitionOffsets('t', 1)
    for (let o = 0; o < 5000; o++) p.fetched(o)
    for (let o = 0; o < 3000; o++) p.done(o)
    expect(p.commitPoint).toBe(3000)
    for (let o = 3001; o < 5000; o++) p.done(o)
    expect(p.commitPoint).toBe(3000)
    expect(p.advanced).toBe(true)
    p.committed = 3000
    expect(p.advanced).toBe(false)
    p.done(3000)
    expect(p.commitPoint).toBe(5000)
    expect(p.advanced).toBe(true)
  })
})
