/**
 * The TCP transport: `tcp://host:port`. Frames as in DESIGN.md (4-byte
 * length, msgpack envelope), a hello with the protocol version, backpressure,
 * coalesced writes, and client reconnect with a bounded outbox.
 * @module
 */
import { createConnection, createServer } from 'node:net'
import type { Channel } from '../../channel/channel.js'
import { connect, listen } from '../../channel/connect.js'
import type { ConnectOptions, ListenOptions } from '../../channel/options.js'
import type { Server } from '../../channel/server.js'
import type { TransportProvider } from '../../channel/transport.js'
import { hostPort, hostUrl } from '../../channel/url.js'
import { whenReady } from '../stream/dial.js'
import { StreamLink, socketPeer, type StreamDialer } from '../stream/link.js'
import { StreamListener, bind } from '../stream/listener.js'
import { readStreamOptions, type StreamOptions } from '../stream/options.js'

export type { StreamOptions as TcpOptions } from '../stream/options.js'

/** Opens a plain TCP socket; resolves once connected. */
export function tcpDialer(host: string, port: number): StreamDialer {
  return {
    dial: (signal) => whenReady(createConnection({ host, port }), 'connect', signal, `${host}:${port}`),
    peer: socketPeer,
  }
}

/** The `tcp:` scheme for `connect` and `listen`. */
export const provider: TransportProvider<StreamOptions & { connectTimeoutMs?: number }> = {
  scheme: 'tcp',
  async connect(url, options) {
    const { host, port } = hostPort(url)
    const resolved = readStreamOptions(options, 'connect(tcp)')
    return StreamLink.dial('tcp', hostUrl('tcp', host, port), tcpDialer(host, port), resolved)
  },
  async listen(url, options) {
    const { host, port } = hostPort(url)
    const resolved = readStreamOptions(options, 'listen(tcp)')
    const server = createServer({ noDelay: true })
    const real = await bind(server, host, port, 'tcp')
    return new StreamListener(server, real, { name: 'tcp', scheme: 'tcp', acceptEvent: 'connection', peer: socketPeer }, resolved)
  },
}

/** Typed shortcut for `connect('tcp://host:port', options)`. */
export function connectTcp(host: string, port: number, options: ConnectOptions = {}): Promise<Channel> {
  return connect(hostUrl('tcp', host, port), options)
}

/** Typed shortcut for `listen('tcp://host:port', options)`; port 0 picks a free one. */
export function listenTcp(host: string, port: number, options: ListenOptions = {}): Promise<Server> {
  return listen(hostUrl('tcp', host, port), options)
}
