/**
 * Who is on the other end of a connection, as far as the transport can tell.
 * Over TLS with client certificates, the identity fields are verified.
 */
export interface PeerInfo {
  /** Remote address and port, where the transport has them. */
  readonly address?: string | undefined
  readonly port?: number | undefined
  /** True when the peer proved its identity (a verified client certificate). */
  readonly authenticated: boolean
  /** Certificate subject common name. */
  readonly commonName?: string | undefined
  /** Subject alternative names, as `DNS:host`, `IP Address:1.2.3.4`, `URI:…`. */
  readonly subjectAltNames?: readonly string[] | undefined
  /** SHA-256 fingerprint of the peer certificate (`AA:BB:…`). */
  readonly fingerprint256?: string | undefined
}
