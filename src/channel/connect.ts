import { TRANSPORTS } from '../transports/index.js'
import { Channel } from './channel.js'
import { SeamError } from './errors.js'
import type { ConnectOptions, ListenOptions } from './options.js'
import { checkFeatures, resolveChannelOptions } from './resolve-options.js'
import { Server } from './server.js'
import type { TransportProvider } from './transport.js'
import { parseUrl } from './url.js'

/**
 * @internal The transport of `url`'s scheme, loaded on first use; shared by
 * `connect`, `listen` and `bridge` so a URL means one thing everywhere.
 * @throws SeamError `ERR_BAD_URL` for an unknown scheme.
 */
export async function providerFor(url: URL): Promise<TransportProvider> {
  const scheme = url.protocol.slice(0, -1).toLowerCase()
  const load = Object.hasOwn(TRANSPORTS, scheme) ? TRANSPORTS[scheme] : undefined
  if (load === undefined) {
    throw new SeamError('ERR_BAD_URL', `${url.href}: unknown scheme "${scheme}:" (known: ${Object.keys(TRANSPORTS).join(', ')})`)
  }
  return load()
}

/**
 * Opens a channel to `url`; the scheme picks the transport
 * (`memory://`, `tcp://`, …). Resolves once the first connection is up.
 * @throws SeamError `ERR_BAD_URL` for an unknown scheme or a malformed URL,
 *   `ERR_TRANSPORT` when the first connection cannot be made within
 *   `connectTimeoutMs`, `ERR_BAD_ARGUMENT` for a bad option.
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<Channel> {
  const parsed = parseUrl(url)
  // Read before dialing, so a bad option fails without touching the network.
  const resolved = resolveChannelOptions(options, 'connect')
  const provider = await providerFor(parsed)
  const link = await provider.connect(parsed, options)
  try {
    checkFeatures(resolved, link.features, `connect(${link.name})`)
    return new Channel(link, resolved)
  } catch (err) {
    await link.close(0)
    throw err
  }
}

/**
 * Listens on `url` and serves every accepted peer with `options.registry`.
 * `tcp://127.0.0.1:0` binds a free port; read it back from `server.url`.
 * @throws SeamError `ERR_BAD_URL`, `ERR_TRANSPORT` (e.g. the port is taken), `ERR_BAD_ARGUMENT`.
 */
export async function listen(url: string | URL, options: ListenOptions = {}): Promise<Server> {
  const parsed = parseUrl(url)
  // Read once, before binding: a bad option fails the call without touching a port, and every peer shares the registry.
  const resolved = resolveChannelOptions(options, 'listen')
  const provider = await providerFor(parsed)
  const listener = await provider.listen(parsed, options)
  try {
    return new Server(listener, options, resolved)
  } catch (err) {
    await listener.close()
    throw err
  }
}
