/**
 * The echo client: `npm run example:echo-client [url-or-port]` while the
 * server runs in another terminal. Sends a few notes and requests, prints
 * the replies, shows what a rejected message looks like, and exits 0.
 */
import { Registry, SeamError, connect } from '../../src/index.js'
import { Echo, Echoed, Note, Unknown, echoUrl } from './messages.js'

const url = echoUrl()
const registry = new Registry({ onError: (err) => console.error(`[client] ${err.code}: ${err.message}`) })
registry.register(Echoed)

let client
try {
  client = await connect(url, { registry, connectTimeoutMs: 3000 })
} catch (err) {
  console.error(`[client] ${err instanceof Error ? err.message : String(err)}`)
  console.error('[client] is the server running? start it with: npm run example:echo-server')
  process.exit(1)
}
console.log(`[client] connected to ${url}`)

await client.send(Note, { from: 'client', text: 'hello from the echo client' })
for (let seq = 1; seq <= 3; seq++) {
  const reply = await client.request(Echo, { seq, text: `message ${seq}` }, { expect: Echoed, timeoutMs: 2000 })
  console.log(`[client] reply #${reply.seq}: "${reply.text}" (server time ${reply.at})`)
}

try {
  await client.request(Unknown, { anything: 'nobody registered me' }, { expect: Echoed, timeoutMs: 2000 })
} catch (err) {
  if (!(err instanceof SeamError)) throw err
  console.log(`[client] rejected as expected: ${err.code}`)
}

await client.close()
console.log('[client] done')
