/**
 * The stdio transport: typed messages through Unix pipes,
 * `node producer.js | node processor.js | node sink.js`.
 *
 * `connect('stdio://')` writes to standard output, `listen('stdio://')`
 * reads standard input; a processor does both. The default format is the
 * TCP transport's binary frames; `stdio://?format=json` writes and reads
 * JSON lines, for `jq`, `grep`, people and other languages. The end of the
 * input ends the listener's channel cleanly (handlers finish, `closed()`
 * resolves); a reader that goes away (`EPIPE`) ends the writer's channel
 * with `ERR_TRANSPORT`. One way only: no request/reply.
 * @module
 */
import type { Channel } from '../../channel/channel.js'
import { connect, listen } from '../../channel/connect.js'
import type { ConnectOptions, ListenOptions } from '../../channel/options.js'
import type { Server } from '../../channel/server.js'
import type { StdioFormat } from './options.js'

export { provider } from './provider.js'
export { STDIO_FEATURES } from './link.js'
export type { StdioFormat, StdioOptions } from './options.js'

function stdioUrl(format: StdioFormat | undefined): string {
  return format === undefined ? 'stdio://' : `stdio://?format=${format}`
}

/** Typed shortcut for `connect('stdio://', options)`: a channel that writes standard output (or `options.stdio.output`). */
export function connectStdio(options: ConnectOptions = {}): Promise<Channel> {
  return connect(stdioUrl(options.stdio?.format), options)
}

/**
 * Typed shortcut for `listen('stdio://', options)`, reading standard input
 * (or `options.stdio.input`). Like every listener of a single link, the
 * server closes itself when the input ends: `await server.closed()` returns
 * once every message read was handled.
 */
export function listenStdio(options: ListenOptions = {}): Promise<Server> {
  return listen(stdioUrl(options.stdio?.format), options)
}
