import { describe, expect, it } from 'vitest'
import { WriteCoalescer } from '../../src/transports/amqp/coalesce.js'

function socket(): { corks: number; uncorks: number; destroyed: boolean; cork(): void; uncork(): void } {
  return {
    corks: 0,
    uncorks: 0,
    destroyed: false,
    cork() {
      this.corks++
    },
    uncork() {
      this.uncorks++
    },
  }
}

const afterWriterRan = (): Promise<void> => new Promise((r) => process.nextTick(() => setImmediate(() => setImmediate(r))))

describe('WriteCoalescer', () => {
  it('holds the writes of one turn once, and lets them go after a writer scheduled the way amqplib does', async () => {
    const s = socket()
    const c = new WriteCoalescer()
    c.attach(s)
    const order: string[] = []
    // amqplib: a frame queued, then its writer runs in a setImmediate scheduled from a nextTick.
    process.nextTick(() => setImmediate(() => order.push(`writer ran, uncorked ${s.uncorks}`)))
    for (let i = 0; i < 100; i++) c.hold()
    expect(s.corks).toBe(1)
    await afterWriterRan()
    expect(order).toEqual(['writer ran, uncorked 0'])
    expect(s.uncorks).toBe(1)
    c.hold()
    expect(s.corks).toBe(2)
  })

  it('a new connection releases the old socket; a destroyed one is not touched', async () => {
    const a = socket()
    const b = socket()
    const c = new WriteCoalescer()
    c.attach(a)
    c.hold()
    c.attach(b)
    expect(a.uncorks).toBe(1)
    c.hold()
    b.destroyed = true
    await afterWriterRan()
    expect(b.uncorks).toBe(0)
  })

  it('without a socket (amqplib keeps it elsewhere) holds nothing', () => {
    const c = new WriteCoalescer()
    c.attach(undefined)
    expect(() => c.hold()).not.toThrow()
  })
})
