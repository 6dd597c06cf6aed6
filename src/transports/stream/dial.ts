import type { Socket } from 'node:net'
import { toSeamError, type SeamError } from '../../channel/errors.js'

/**
 * Resolves with `socket` once it emits `ready` ('connect' for TCP,
 * 'secureConnect' for TLS); on an error or an abort it destroys the socket and
 * rejects with a SeamError (`explain` may name the cause better, e.g. a
 * certificate problem).
 */
export function whenReady(
  socket: Socket,
  ready: 'connect' | 'secureConnect',
  signal: AbortSignal,
  target: string,
  explain?: (err: Error) => SeamError | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      socket.destroy()
      reject(toSeamError(signal.reason, 'ERR_TRANSPORT', `connecting to ${target} was cancelled`))
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once(ready, () => {
      signal.removeEventListener('abort', onAbort)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(explain?.(err) ?? toSeamError(err, 'ERR_TRANSPORT', `cannot reach ${target}`))
    })
  })
}
