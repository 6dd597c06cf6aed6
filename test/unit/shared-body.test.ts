/**
 * A channel encodes a body into the serde's reused buffer only for a link
 * that copies it before `send` returns (`copiesBody`). Every other link
 * (brokers, the memory transport) keeps the envelopes it is given, and each
 * must keep bytes of its own. A link that breaks the rule would see every
 * kept body turn into the last one sent.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, defineMessage, msgpack, type Envelope } from '../../src/index.js'
import { Channel } from '../../src/channel/channel.js'
import { resolveChannelOptions } from '../../src/channel/resolve-options.js'
import type { LinkSink, TransportLink } from '../../src/channel/transport.js'

const Num = defineMessage('shared.Num', t.type({ n: t.number, label: t.string }))

/** A link that keeps every envelope it is sent (as a broker's outbox would) and, with `copies`, a copy of each body made during `send`. */
function keepingLink(copiesBody: boolean): TransportLink & { kept: Envelope[]; copied: Uint8Array[] } {
  const kept: Envelope[] = []
  const copied: Uint8Array[] = []
  return {
    name: 'keeping',
    features: { reply: true, connected: false, persistent: false, orderingByKey: false, orderedWithoutKey: true, redelivery: false },
    peer: undefined,
    replyAddress: 'replies',
    copiesBody,
    kept,
    copied,
    start: (_sink: LinkSink) => undefined,
    pause: () => undefined,
    resume: () => undefined,
    stopReceiving: () => undefined,
    send(envelope: Envelope) {
      kept.push(envelope)
      copied.push(Uint8Array.prototype.slice.call(envelope.body))
      return Promise.resolve()
    },
    close: () => Promise.resolve(),
  }
}

function channelOver(link: TransportLink): Channel {
  return new Channel(link, resolveChannelOptions({ registry: new Registry() }, 'test'))
}

const values = [1, 2, 3].map((n) => ({ n, label: `value-${n}` }))

describe('bodies in a shared buffer', () => {
  it('a link that keeps envelopes gets bodies of their own', async () => {
    const link = keepingLink(false)
    const channel = channelOver(link)
    for (const v of values) await channel.send(Num, v)
    expect(link.kept.map((e) => msgpack.decode(e.body))).toEqual(values)
    await channel.close()
  })

  it('a link that copies during send gets every body right at the time of its send', async () => {
    const link = keepingLink(true)
    const channel = channelOver(link)
    for (const v of values) await channel.send(Num, v)
    expect(link.copied.map((b) => msgpack.decode(b))).toEqual(values)
    // What makes it cheaper: the bodies share the serde's buffer, so only the copies made during send hold.
    expect(new Set(link.kept.map((e) => e.body.buffer)).size).toBe(1)
    await channel.close()
  })

  it('a request is handed to the link before anything else runs', async () => {
    const link = keepingLink(true)
    const channel = channelOver(link)
    const asked = channel.request(Num, { n: 7, label: 'asked' }, { expect: Num, timeoutMs: 50 })
    await channel.send(Num, { n: 8, label: 'after' })
    expect(link.copied.map((b) => msgpack.decode(b))).toEqual([
      { n: 7, label: 'asked' },
      { n: 8, label: 'after' },
    ])
    await expect(asked).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    await channel.close()
  })
})
