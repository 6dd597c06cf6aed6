import type { Socket } from 'node:net'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import type { PeerInfo } from '../../channel/peer.js'

/**
 * Splits Node's `subjectaltname` ("DNS:a, IP Address:1.2.3.4, URI:…").
 * Since the fix for CVE-2021-44533 a value holding a comma or quote is
 * written as a JSON string, so a plain split on ", " could be fooled.
 */
export function splitAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return []
  const names: string[] = []
  let i = 0
  while (i < text.length) {
    const colon = text.indexOf(':', i)
    if (colon < 0) break
    const kind = text.slice(i, colon)
    let value: string
    let next: number
    if (text[colon + 1] === '"') {
      // Find the closing quote that is not escaped.
      let end = colon + 2
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string
      } catch {
        value = text.slice(colon + 2, end)
      }
      next = end + 1
    } else {
      const comma = text.indexOf(', ', colon)
      next = comma < 0 ? text.length : comma
      value = text.slice(colon + 1, next)
    }
    names.push(`${kind}:${value}`)
    i = text.startsWith(', ', next) ? next + 2 : next + 1
  }
  return names
}

function commonName(cert: PeerCertificate): string | undefined {
  const cn = (cert.subject as Record<string, string | string[] | undefined> | undefined)?.CN
  return Array.isArray(cn) ? cn[0] : cn
}

/**
 * The identity of the peer on a TLS socket. `authenticated` only when Node
 * verified the certificate against the trusted CAs; a client with
 * `insecureSkipVerify` still sees the server's names, but unauthenticated.
 */
export function tlsPeer(socket: Socket): PeerInfo {
  const tls = socket as TLSSocket
  const cert = tls.getPeerCertificate()
  const present = cert !== null && typeof cert === 'object' && cert.fingerprint256 !== undefined
  if (!present) return { address: socket.remoteAddress, port: socket.remotePort, authenticated: false }
  return {
    address: socket.remoteAddress,
    port: socket.remotePort,
    authenticated: tls.authorized === true,
    commonName: commonName(cert),
    subjectAltNames: Object.freeze(splitAltNames(cert.subjectaltname)),
    fingerprint256: cert.fingerprint256,
  }
}
