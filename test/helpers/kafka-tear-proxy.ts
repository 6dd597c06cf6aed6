/**
 * A loopback proxy in front of a real Kafka broker that tears one fetch
 * response on demand, the way mokapi now and then does on its own (see
 * isTornFetch in ./kafka.ts): the first record batch of the next fetch
 * response that carries records gets a negative record count, which kafkajs
 * cannot decode (a RangeError), so its consumer crashes. Everything else is
 * forwarded untouched, except the broker ports in metadata responses, which
 * point at the proxy so that fetches come through it. It speaks the
 * non-flexible Kafka versions kafkajs uses (Metadata v0–v8, Fetch v4–v11) and
 * fails loudly on any other.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

const FETCH = 1
const METADATA = 3
/** Where a v2 record batch keeps its record count: baseOffset 8, length 4, leader epoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4, two timestamps 16, producer id 8, epoch 2, base sequence 4. */
const RECORD_COUNT_AT = 57
const MAGIC_AT = 16

export interface TearProxy {
  /** `127.0.0.1:<port>`: the brokers to give a client instead of the broker's. */
  readonly brokers: string
  /** Fetch responses torn so far. */
  readonly torn: number
  /** Tears the next fetch response that carries records. */
  tearNextFetch(): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1:0 in front of the broker at `127.0.0.1:brokerPort`. */
export async function startTearProxy(brokerPort: number): Promise<TearProxy> {
  const sockets = new Set<Socket>()
  let armed = false
  let torn = 0
  let port = 0
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: brokerPort })
    sockets.add(client).add(upstream)
    const asked = new Map<number, { apiKey: number; version: number }>()
    const end = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('data', frames((frame) => {
      asked.set(frame.readInt32BE(8), { apiKey: frame.readInt16BE(4), version: frame.readInt16BE(6) })
      upstream.write(frame)
    }))
    upstream.on('data', frames((frame) => {
      const request = asked.get(frame.readInt32BE(4))
      asked.delete(frame.readInt32BE(4))
      if (request?.apiKey === METADATA) pointBrokersAt(frame, request.version, port)
      if (request?.apiKey === FETCH && armed && tearFetch(frame, request.version)) {
        armed = false
        torn++
      }
      client.write(frame)
    }))
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  return {
    brokers: `127.0.0.1:${port}`,
    get torn() {
      return torn
    },
    tearNextFetch() {
      armed = true
    },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Cuts a byte stream into whole size-prefixed frames (size included). */
function frames(each: (frame: Buffer) => void): (chunk: Buffer) => void {
  let held: Buffer = Buffer.alloc(0)
  return (chunk) => {
    held = held.length === 0 ? chunk : Buffer.concat([held, chunk])
    while (held.length >= 4 && held.length >= 4 + held.readInt32BE(0)) {
      const size = 4 + held.readInt32BE(0)
      each(held.subarray(0, size))
      held = held.subarray(size)
    }
  }
}

/** A reader over one response frame, past its size and correlation id. */
class At {
  constructor(readonly b: Buffer, public i = 8) {}
  skip(n: number): this {
    this.i += n
    return this
  }
  int32(): number {
    const v = this.b.readInt32BE(this.i)
    this.i += 4
    return v
  }
  string(): this {
    const n = this.b.readInt16BE(this.i)
    this.i += 2 + Math.max(0, n)
    return this
  }
}

function pointBrokersAt(frame: Buffer, version: number, port: number): void {
  if (version > 8) throw new Error(`tear proxy: Metadata v${version} is flexible; teach the proxy to read it`)
  const at = new At(frame)
  if (version >= 3) at.skip(4)
  for (let n = at.int32(); n > 0; n--) {
    at.skip(4).string()
    frame.writeInt32BE(port, at.i)
    at.skip(4)
    if (version >= 1) at.string()
  }
}

/** Gives the first record batch of the response a record count of -2; false when no partition carried records. */
function tearFetch(frame: Buffer, version: number): boolean {
  if (version < 4 || version > 11) throw new Error(`tear proxy: Fetch v${version} is not one it reads`)
  const at = new At(frame)
  at.skip(4)
  if (version >= 7) at.skip(6)
  for (let topics = at.int32(); topics > 0; topics--) {
    at.string()
    for (let partitions = at.int32(); partitions > 0; partitions--) {
      at.skip(4 + 2 + 8 + 8)
      if (version >= 5) at.skip(8)
      const aborted = at.int32()
      at.skip(Math.max(0, aborted) * 16)
      if (version >= 11) at.skip(4)
      const size = at.int32()
      if (size > RECORD_COUNT_AT + 4 && frame.readInt8(at.i + MAGIC_AT) === 2) {
        frame.writeInt32BE(-2, at.i + RECORD_COUNT_AT)
        return true
      }
      at.skip(Math.max(0, size))
    }
  }
  return false
}
