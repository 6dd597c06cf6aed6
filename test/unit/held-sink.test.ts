import { describe, expect, it } from 'vitest'
import { HeldSink } from '../../src/channel/held-sink.js'
import { SeamError, type Delivery, type LinkSink } from '../../src/index.js'

function recorder(): { sink: LinkSink; calls: string[] } {
  const calls: string[] = []
  const sink: LinkSink = {
    deliver: (d) => void calls.push(`deliver ${d.envelope?.id ?? '?'}`),
    status: (state, cause) => void calls.push(`status ${state}${cause === undefined ? '' : ` ${cause.code}`}`),
    error: (error) => void calls.push(`error ${error.code}`),
    ended: (error) => void calls.push(`ended${error === undefined ? '' : ` ${error.code}`}`),
  }
  return { sink, calls }
}

const delivery = (id: string): Delivery => ({ envelope: { tag: 't', id, ts: 0, ct: 'application/msgpack', headers: {}, body: new Uint8Array() }, ack: () => undefined, nack: () => undefined })

describe('HeldSink', () => {
  it('holds what a link reports before attach, passes it on in order at attach, then everything as it comes', () => {
    const held = new HeldSink()
    held.deliver(delivery('1'))
    held.status('down', new SeamError('ERR_TRANSPORT', 'gone'))
    held.error(new SeamError('ERR_PROTOCOL', 'bad'))
    held.status('up')
    held.deliver(delivery('2'))
    const { sink, calls } = recorder()
    expect(calls).toEqual([])
    held.attach(sink)
    expect(calls).toEqual(['deliver 1', 'status down ERR_TRANSPORT', 'error ERR_PROTOCOL', 'status up', 'deliver 2'])
    held.deliver(delivery('3'))
    held.ended(new SeamError('ERR_TRANSPORT', 'for good'))
    expect(calls.slice(5)).toEqual(['deliver 3', 'ended ERR_TRANSPORT'])
  })

  it('passes on an early end without an error as one', () => {
    const held = new HeldSink()
    held.ended()
    const { sink, calls } = recorder()
    held.attach(sink)
    expect(calls).toEqual(['ended'])
  })
})
