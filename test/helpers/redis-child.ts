/**
 * A Redis listener in a process of its own, for a test to kill with SIGKILL
 * (test/integration/redis-recovery.test.ts):
 *
 *   node --import tsx test/helpers/redis-child.ts <listen URL> '<settings JSON>'
 *
 * Settings: `handlerMs` (how long each `guarantee.Seq` handler takes; absent:
 * it never ends, as one whose process crashes), `concurrency`, and `redis`
 * options. Prints `received <seq>` when a handler starts and `done <seq>`
 * when it ended, and `ready` once reading started. Errors go to stderr.
 */
import * as t from 'io-ts'
import { Registry, defineMessage, listen, type RedisOptions } from '../../src/index.js'

const [url, json] = process.argv.slice(2)
if (url === undefined) {
  process.stderr.write("usage: redis-child.ts <listen URL> '<settings JSON>'\n")
  process.exit(2)
}
const settings = JSON.parse(json ?? '{}') as { handlerMs?: number; concurrency?: number; redis?: RedisOptions }

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))
const registry = new Registry({ onError: (err) => void process.stderr.write(`error ${err.code}: ${err.message}\n`) })
registry.on(Seq, async ({ seq }) => {
  process.stdout.write(`received ${seq}\n`)
  if (settings.handlerMs === undefined) await new Promise(() => undefined)
  await new Promise((resolve) => setTimeout(resolve, settings.handlerMs))
  process.stdout.write(`done ${seq}\n`)
})
await listen(url, { registry, concurrency: settings.concurrency, redis: settings.redis })
process.stdout.write('ready\n')
