/**
 * The echo server: `npm run example:echo-server [url-or-port]`.
 * Prints every note, answers every Echo request, and shuts down cleanly on
 * Ctrl-C (SIGINT) or SIGTERM: it stops accepting, lets handlers finish and
 * flushes replies before it exits.
 */
import { Registry, listen } from '../../src/index.js'
import { Echo, Echoed, Note, echoUrl } from './messages.js'

const registry = new Registry({
  unregistered: 'reject', // the sender hears ERR_UNREGISTERED_TAG instead of silence
  onError: (err) => console.error(`[server] ${err.code}: ${err.message}`),
})
registry.register(Echoed)
registry.events.on('outcome', (outcome, env) => console.log(`[server] "${env.tag}" ran into the ${outcome.case} policy: ${outcome.action} (${outcome.error.code})`))
registry.on(Note, (note, ctx) => {
  console.log(`[server] note from ${note.from} over ${ctx.transport}: ${note.text}`)
})
registry.on(Echo, async (echo, ctx) => {
  console.log(`[server] echo #${echo.seq}: ${echo.text}`)
  await ctx.reply(Echoed, { ...echo, at: new Date().toISOString() })
})

const server = await listen(echoUrl(), { registry })
server.events.on('peer', (peer) => console.log(`[server] peer connected from ${peer.peer?.address ?? '?'}:${peer.peer?.port ?? '?'}`))
server.events.on('peerClosed', () => console.log('[server] peer left'))
console.log(`[server] listening on ${server.url}; Ctrl-C to stop`)

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`[server] ${signal}: closing`)
  await server.close()
  const stats = registry.stats()
  console.log(`[server] closed after ${stats.handled} messages handled, ${stats.rejected} rejected`)
}
process.once('SIGINT', () => void stop('SIGINT'))
process.once('SIGTERM', () => void stop('SIGTERM'))
