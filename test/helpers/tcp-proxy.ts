/**
 * A loopback TCP proxy in front of a real server, so a test can break the
 * network the way it breaks in production: drop every connection at once, or
 * keep them open and silently stop forwarding (a dead peer that heartbeats
 * have not noticed yet). The server behind it is real; nothing is mocked.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  /** The port to connect to instead of the server's. */
  readonly port: number
  /** Connections open now. */
  readonly connections: number
  /** Destroys every open connection (new ones are still accepted and forwarded). */
  dropAll(): void
  /** Keeps connections open but forwards nothing either way until {@link heal}; new connections hang too. */
  blackhole(): void
  /** Forwards again (data swallowed meanwhile is gone). */
  heal(): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1:0 forwarding to `host:port`. */
export async function startProxy(port: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let holed = false
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port })
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const end = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (b) => void (holed || upstream.write(b)))
    upstream.on('data', (b) => void (holed || client.write(b)))
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
  const proxy: TcpProxy = {
    port: address.port,
    get connections() {
      return pairs.size
    },
    dropAll() {
      for (const [a, b] of pairs) {
        a.destroy()
        b.destroy()
      }
      pairs.clear()
    },
    blackhole() {
      holed = true
    },
    heal() {
      holed = false
    },
    close() {
      proxy.dropAll()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
