import type { TransportLink, TransportListener } from './transport.js'

/**
 * The listener of a broker transport: consuming a queue or a topic is one
 * link, opened (topology declared, consumer registered) before `listen`
 * resolves, and handed to the server's one channel on `start`. The channel
 * closes the link; a link never handed over is closed with the listener.
 * When that channel closes, so does the server (`single`).
 */
export function singleLinkListener(url: string, link: TransportLink): TransportListener {
  let started = false
  return {
    url,
    features: link.features,
    single: true,
    start: (onLink) => {
      started = true
      onLink(link)
    },
    close: () => (started ? Promise.resolve() : link.close(0)),
  }
}
