/**
 * Declared-length bombs: a few bytes that declare a huge array, map, string,
 * binary or extension. Decoding a frame of N bytes must cost O(N): a bomb in
 * the envelope ends that one connection with ERR_PROTOCOL, a bomb in a body
 * fails that one message as undecodable, and neither costs memory or time.
 */
import { encode } from '@msgpack/msgpack'
import * as t from 'io-ts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineMessage, ERROR_TAG, type Channel, type Registry, type Server } from '../../src/index.js'
import { echoServer, frame, rawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { BOMBS } from '../helpers/bombs.js'
import { MiB, collectErrors, heldBytes, waitFor, within } from '../helpers.js'

const Ping = defineMessage('bomb.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('bomb.Pong', t.type({ seq: t.number }))

// The report's 256 MiB array32, and one of each other kind that allocates or is read before it is checked.
const KINDS = ['array32', 'map32', 'str32', 'bin32', 'ext32', 'array16', 'map16', 'array32 nested'] as const

const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s)]

/** An envelope `{ tag, id, replyTo: '', headers: <bomb> }`: valid up to the bomb. */
function envelopeBomb(bomb: readonly number[]): Buffer {
  return frame(Uint8Array.from([0x85, ...str('tag'), ...str(Ping.tag), ...str('id'), ...str('bomb-env'), ...str('replyTo'), 0xa0, ...str('body'), 0xc4, 0x01, 0xc0, ...str('headers'), ...bomb]))
}

/** A valid envelope whose body is the bomb: a request, so the error comes back correlated. */
function bodyBomb(bomb: readonly number[], id: string): Buffer {
  return frame(encode({ tag: Ping.tag, id, ts: Date.now(), replyTo: '', body: Uint8Array.from(bomb) }))
}

describe('tcp: declared-length bombs cost what their bytes cost', () => {
  let server: Server
  let registry: Registry
  let good: Channel
  let serverErrors: ReturnType<typeof collectErrors>
  const raws: RawPeer[] = []

  beforeEach(async () => {
    ;({ server, registry, good, serverErrors } = await echoServer(Ping, Pong))
  })

  afterEach(async () => {
    for (const r of raws.splice(0)) r.socket.destroy()
    await good?.close()
    await server?.close()
  })

  async function peer(): Promise<RawPeer> {
    const raw = await rawPeer(server.url, { hello: true })
    raws.push(raw)
    return raw
  }

  it.each(KINDS)('%s in the envelope: ERR_PROTOCOL closes that connection at once, the heap stays put', async (kind) => {
    const raw = await peer()
    const before = heldBytes()
    const started = Date.now()
    raw.socket.write(envelopeBomb(BOMBS[kind] as readonly number[]))
    await within(raw.whenClosed, 5000, 'the server to close the connection')
    const took = Date.now() - started
    await waitFor(() => serverErrors.errors.some((e) => e.code === 'ERR_PROTOCOL'), 5000, 'the ERR_PROTOCOL report')
    expect(serverErrors.errors.find((e) => e.code === 'ERR_PROTOCOL')?.message).toMatch(/declares \d+|deeper than/)
    // The report's case took ~750 ms and 256 MiB; a bounded decode takes well under a millisecond.
    expect(took).toBeLessThan(250)
    expect(heldBytes() - before).toBeLessThan(4 * MiB)
    await expect(good.request(Ping, { seq: 1 }, { expect: Pong, timeoutMs: 5000 })).resolves.toEqual({ seq: 1 })
  })

  it.each(KINDS)('%s in a body: that one message fails as ERR_UNDECODABLE, the connection stays', async (kind) => {
    const raw = await peer()
    const before = heldBytes()
    const started = Date.now()
    raw.socket.write(bodyBomb(BOMBS[kind] as readonly number[], 'bomb-body'))
    await waitFor(() => raw.envelopes.some((e) => e.corr === 'bomb-body'), 5000, 'the error reply')
    const took = Date.now() - started
    const reply = raw.envelopes.find((e) => e.corr === 'bomb-body')
    expect(reply?.tag).toBe(ERROR_TAG)
    expect(reply?.headers['x-seam-code']).toBe('ERR_UNDECODABLE')
    expect(reply?.headers['x-seam-message']).toMatch(/declares \d+/)
    expect(took).toBeLessThan(250)
    expect(heldBytes() - before).toBeLessThan(4 * MiB)
    // The same connection still serves a good request.
    raw.socket.write(frame(encode({ tag: Ping.tag, id: 'after', ts: Date.now(), replyTo: '', body: encode({ seq: 5 }) })))
    await waitFor(() => raw.envelopes.some((e) => e.corr === 'after' && e.tag === Pong.tag), 5000, 'the reply on the same connection')
    expect(raw.closed).toBe(false)
  })

  it('100 connections sending bombs at once: the heap stays put and a good client is answered throughout', async () => {
    const before = heldBytes()
    const peers = await Promise.all(Array.from({ length: 100 }, () => peer()))
    const latencies: number[] = []
    const failures: unknown[] = []
    let stop = false
    const asking = (async () => {
      for (let seq = 0; !stop && seq < 10_000; seq++) {
        const t0 = Date.now()
        const reply = await good.request(Ping, { seq }, { expect: Pong, timeoutMs: 5000 }).catch((err: unknown) => void failures.push(err))
        if (reply?.seq !== seq) failures.push(reply)
        latencies.push(Date.now() - t0)
      }
    })()
    const kinds = KINDS.map((k) => BOMBS[k] as readonly number[])
    for (const [i, raw] of peers.entries()) {
      // Eight body bombs each (the connection lives through them), then one in the envelope, which ends it.
      const bombs = Array.from({ length: 8 }, (_, j) => bodyBomb(kinds[(i + j) % kinds.length] as readonly number[], `b${i}-${j}`))
      raw.socket.write(Buffer.concat([...bombs, envelopeBomb(kinds[i % kinds.length] as readonly number[])]))
    }
    await waitFor(() => peers.every((p) => p.closed) && server.peers.size === 1, 10_000, 'every bombing connection to be closed, on both sides')
    // Each body bomb failed alone (a connection ended by its envelope bomb may not get to read every error reply).
    expect(registry.stats().undecodable).toBe(800)
    await waitFor(() => latencies.length >= 20, 10_000, 'twenty answered requests')
    stop = true
    await asking
    expect(failures).toEqual([])
    expect(Math.max(...latencies)).toBeLessThan(1000)
    expect(heldBytes() - before).toBeLessThan(16 * MiB)
    expect(serverErrors.errors.filter((e) => e.code === 'ERR_PROTOCOL').length).toBe(100)
  })
})
