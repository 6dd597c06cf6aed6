/**
 * TLS echo client: `npm run example:tls-client` (start the server first).
 *
 * Verifies the server against the example CA and presents its own client
 * certificate (mutual TLS). Then it tries Shutdown, which the server's
 * `authorize` refuses for this client with ERR_FORBIDDEN; the connection
 * stays open and the next Echo still works.
 */
import { connect, isSeamError } from '../../src/index.js'
import { loadOrCreateCerts } from './certs.js'
import { Echo, Echoed, Shutdown } from './messages.js'

const certs = loadOrCreateCerts()
const url = process.env.SEAM_URL ?? `tls://localhost:${process.env.PORT ?? 7443}`

const client = await connect(url, {
  tls: {
    ca: process.env.SEAM_TLS_CA ?? certs.ca,
    key: process.env.SEAM_TLS_KEY ?? certs.clientKey,
    cert: process.env.SEAM_TLS_CERT ?? certs.clientCert,
  },
  connectTimeoutMs: 3000,
})
console.log(`connected to ${url}; the server proved it is "${client.peer?.commonName}" (verified: ${client.peer?.authenticated})`)

for (const text of ['hello', 'over', 'mutual TLS']) {
  const reply = await client.request(Echo, { text }, { expect: Echoed, timeoutMs: 5000 })
  console.log(`echoed "${reply.text}"; the server sees me as "${reply.you}"`)
}

try {
  await client.request(Shutdown, {}, { expect: Echoed, timeoutMs: 5000 })
  console.log('the server accepted Shutdown (this client is in its SEAM_ADMINS)')
} catch (err) {
  if (!isSeamError(err, 'ERR_FORBIDDEN')) throw err
  console.log(`Shutdown refused: ${err.code} (${err.message})`)
  const again = await client.request(Echo, { text: 'still connected' }, { expect: Echoed, timeoutMs: 5000 })
  console.log(`echoed "${again.text}"`)
}
await client.close()
