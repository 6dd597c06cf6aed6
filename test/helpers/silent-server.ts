/**
 * A loopback port that accepts TCP and never writes a byte: a broker that
 * hangs, or a port that is not the broker's. Tests that a connect fails
 * within connectTimeoutMs and leaves no socket behind.
 */
import { createServer, type Socket } from 'node:net'

export interface SilentServer {
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: number
  /** Connections still open (the client has not closed them). */
  readonly open: number
  close(): Promise<void>
}

export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  // Reads (so the client's FIN is seen) and never writes.
  const server = createServer((s) => {
    accepted++
    sockets.add(s)
    s.resume()
    s.on('error', () => undefined)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted
    },
    get open() {
      return sockets.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A loopback port nothing listens on (bound, read, released). */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}
