/**
 * TLS echo server with mutual TLS: `npm run example:tls-server`.
 *
 * Every client must present a certificate signed by the example CA; the
 * server prints who connected and answers each Echo with the verified name.
 * `authorize` lets only the names in $SEAM_ADMINS (default "ops") send
 * Shutdown; anyone else gets ERR_FORBIDDEN on that tag and keeps the
 * connection for the others. Certificates: see certs.ts (or pass your own
 * with SEAM_TLS_KEY / SEAM_TLS_CERT / SEAM_TLS_CA, paths to PEM files).
 */
import { Registry, listen, type PeerInfo } from '../../src/index.js'
import { loadOrCreateCerts } from './certs.js'
import { Echo, Echoed, Shutdown } from './messages.js'

const certs = loadOrCreateCerts()
const port = Number(process.env.PORT ?? 7443)
const admins = new Set((process.env.SEAM_ADMINS ?? 'ops').split(','))

function who(peer: PeerInfo | undefined): string {
  if (peer === undefined) return 'unknown'
  return `${peer.commonName ?? '(no certificate)'} [${(peer.subjectAltNames ?? []).join(', ')}] sha256 ${peer.fingerprint256?.slice(0, 23) ?? '-'}… from ${peer.address}:${peer.port}`
}

const registry = new Registry()
registry.register(Echoed)
registry.on(Echo, async (msg, ctx) => {
  console.log(`echo "${msg.text}" from ${ctx.peer?.commonName}`)
  await ctx.reply(Echoed, { text: msg.text, you: ctx.peer?.commonName ?? 'anonymous' })
})
registry.on(Shutdown, async (_, ctx) => {
  console.log(`shutdown requested by ${ctx.peer?.commonName}`)
  setImmediate(() => void server.close())
})

const server = await listen(`tls://127.0.0.1:${port}`, {
  registry,
  tls: {
    key: process.env.SEAM_TLS_KEY ?? certs.serverKey,
    cert: process.env.SEAM_TLS_CERT ?? certs.serverCert,
    ca: process.env.SEAM_TLS_CA ?? certs.ca,
    requestCert: true,
  },
  // Per tag: anyone verified may echo; only admins may shut the server down.
  authorize: (peer, tag) => peer?.authenticated === true && (tag !== Shutdown.tag || admins.has(peer.commonName ?? '')),
  onError: (err) => console.error(`[server] ${err.code}: ${err.message}`),
})
server.events.on('peer', (channel) => {
  console.log(`peer connected: ${who(channel.peer)}`)
  channel.events.on('forbidden', (tag, peer) => console.log(`refused "${tag}" from ${peer?.commonName}: not in SEAM_ADMINS`))
})
server.events.on('peerClosed', (channel) => console.log(`peer left: ${channel.peer?.commonName}`))
console.log(`listening on ${server.url} (mutual TLS, CA ${certs.ca}); Ctrl-C to stop`)

process.once('SIGINT', () => void server.close())
await server.closed()
console.log('server closed')
