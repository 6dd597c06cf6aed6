/**
 * The message file transport: `file:///var/data/orders.seam`, append-only
 * files of typed messages. `connect` appends (creating the file with its
 * header when missing; one writer at a time); `listen` reads, from the
 * start, the end or a saved position, and stops at the end or follows the
 * file as it grows (`?from=start|end|<offset>&follow=true|false`). Several
 * readers may read one file at once, each on its own. The records are the
 * TCP transport's frames after a header with a magic number and a format
 * version. No replies: a file goes one way.
 * @module
 */
import { pathToFileURL } from 'node:url'
import type { Channel } from '../../channel/channel.js'
import { connect, listen } from '../../channel/connect.js'
import type { ConnectOptions, ListenOptions } from '../../channel/options.js'
import type { Server } from '../../channel/server.js'

export { provider } from './provider.js'
export { FileCursor } from './cursor.js'
export { FORMAT_VERSION, HEADER_BYTES, MAGIC } from './format.js'
export { FILE_FEATURES } from './features.js'
export type { FileOptions } from './options.js'

/** A path (absolute, or relative to the working folder) as a file URL; a URL string as it is. */
function fileUrl(path: string): string {
  return path.startsWith('file:') ? path : pathToFileURL(path).href
}

/** Typed shortcut for `connect(pathToFileURL(path), options)`: a channel that appends to the file, creating it when missing. */
export function connectFile(path: string, options: ConnectOptions = {}): Promise<Channel> {
  return connect(fileUrl(path), options)
}

/**
 * Typed shortcut for `listen(pathToFileURL(path), options)`. Like every
 * listener of a single link, the server closes itself when the reading
 * ends: without `follow`, `await server.closed()` returns once every record
 * was read and handled. A reading that ended on a failure (the file was
 * deleted or truncated) is reported to `onError` first.
 */
export function listenFile(path: string, options: ListenOptions = {}): Promise<Server> {
  return listen(fileUrl(path), options)
}
