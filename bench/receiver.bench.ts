/**
 * A diagnostic for the one-way gap, not a race between contenders: how fast
 * one process receives when sending costs nothing. A child process builds
 * every frame before the clock starts and then writes them as fast as the
 * socket takes them; this process receives them three ways, in turns:
 *
 * - the baseline: split frames and msgpack-decode them (raw.ts);
 * - the baseline with frames padded by our envelope's size in filler bytes,
 *   which its reader skips;
 * - ours: a seam-channel tcp:// server dispatching to a handler.
 *
 * The first row is our receive path against the baseline's with the sender's
 * work taken out; the second, how much the envelope's bytes alone cost a
 * receiver. In tcp.bench.ts both ends work, and the baseline's sender, busy
 * encoding, is nearly as slow as its receiver; here only the receiver counts.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Registry, listen, msgpack } from '../src/index.js'
import { helloFrame, writeEnvelope } from '../src/transports/stream/wire.js'
import { ENVELOPE_PAD, ItemMsg, item, itemEnvelope } from './payload.js'
import { rawReader, rawServer } from './raw.js'
import { medianRound } from './stats.js'
import type { Row } from './report.js'

const SENDER_FLAG = '--seam-prebuilt-sender'
const ROUNDS = 11
const N = 300_000
const WRITE_BYTES = 64 * 1024

type Kind = 'raw' | 'padded' | 'ours'
type Command = { send: Kind; port: number } | { exit: true }

// ---- the sending process: builds every frame first, then only writes ----

function build(kind: Kind): Buffer {
  const out = Buffer.allocUnsafe(N * (200 + ENVELOPE_PAD))
  let pos = 0
  for (let i = 0; i < N; i++) {
    if (kind === 'ours') {
      const end = writeEnvelope(out, pos + 4, itemEnvelope(i))
      out.writeUInt32BE(end - pos - 4, pos)
      pos = end
      continue
    }
    const body = msgpack.encode(item(i))
    const pad = kind === 'padded' ? ENVELOPE_PAD : 0
    out.writeUInt32BE(pad + body.length, pos)
    out.fill(0, pos + 4, pos + 4 + pad)
    out.set(body, pos + 4 + pad)
    pos += 4 + pad + body.length
  }
  return out.subarray(0, pos)
}

async function writeAll(socket: Socket, bytes: Buffer): Promise<void> {
  for (let off = 0; off < bytes.length; off += WRITE_BYTES) {
    if (!socket.write(bytes.subarray(off, off + WRITE_BYTES))) await once(socket, 'drain')
  }
}

function senderMain(): void {
  const frames: Record<Kind, Buffer> = { raw: build('raw'), padded: build('padded'), ours: build('ours') }
  let socket: Socket | undefined
  process.on('message', (cmd: Command) => {
    socket?.destroy()
    if ('exit' in cmd) return process.disconnect()
    const s = createConnection({ host: '127.0.0.1', port: cmd.port, noDelay: true }, () => {
      s.on('data', () => undefined) // our server's hello
      if (cmd.send === 'ours') s.write(helloFrame(16 * 1024 * 1024))
      void writeAll(s, frames[cmd.send])
    })
    s.on('error', () => undefined) // closed by the next command
    socket = s
  })
  process.send?.('built')
}

if (process.argv.includes(SENDER_FLAG)) senderMain()

// ---- the receiving process: measures ----

/** Runs the receiver-only diagnostic; about 30 s. */
export async function run(): Promise<Row[]> {
  let count = 0
  let done: () => void = () => undefined
  const counted = (): void => {
    if (++count === N) done()
  }
  const registry = new Registry()
  registry.on(ItemMsg, () => counted())
  const ours = await listen('tcp://127.0.0.1:0', { registry })
  const raw = await rawServer((s) => s.on('data', rawReader(counted)))
  const padded = await rawServer((s) => s.on('data', rawReader(counted, ENVELOPE_PAD)))
  const ports: Record<Kind, number> = { ours: Number(new URL(ours.url).port), raw: raw.port, padded: padded.port }
  const sender: ChildProcess = fork(fileURLToPath(import.meta.url), [SENDER_FLAG], { stdio: 'inherit' })
  try {
    await once(sender, 'message')
    const receive = async (kind: Kind): Promise<number> => {
      count = 0
      const all = new Promise<void>((resolve) => (done = resolve))
      const t0 = process.hrtime.bigint()
      sender.send({ send: kind, port: ports[kind] } satisfies Command)
      await all
      return N / (Number(process.hrtime.bigint() - t0) / 1e9)
    }
    const kinds: Kind[] = ['raw', 'padded', 'ours']
    for (const kind of kinds) await receive(kind) // warm-up
    const rate: Record<Kind, number[]> = { raw: [], padded: [], ours: [] }
    for (let round = 0; round < ROUNDS; round++) {
      // Each kind goes first, second and third equally often.
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(round + k) % kinds.length] as Kind
        rate[kind].push(await receive(kind))
      }
    }
    return [
      { name: 'receiver only: ours vs baseline (frames prebuilt)', ...medianRound(rate.ours, rate.raw), unit: 'msg/s', higherIsBetter: true },
      {
        name: `receiver only: baseline + ${ENVELOPE_PAD} B filler (our envelope's size) vs baseline`,
        ...medianRound(rate.padded, rate.raw),
        unit: 'msg/s',
        higherIsBetter: true,
      },
    ]
  } finally {
    sender.send({ exit: true } satisfies Command)
    await once(sender, 'exit')
    await ours.close()
    await raw.close()
    await padded.close()
  }
}
