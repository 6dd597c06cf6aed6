/**
 * An SQS listener in a process of its own, for a test to kill with SIGKILL
 * (test/integration/sqs-guarantees.test.ts):
 *
 *   node --import tsx test/helpers/sqs-child.ts <listen URL>
 *
 * Handles `guarantee.Seq` messages by printing `received <seq>` and then
 * never finishing: the process is killed with the message in its handler.
 * Prints `ready` once polling started. Errors go to stderr.
 */
import * as t from 'io-ts'
import { Registry, defineMessage, listen } from '../../src/index.js'

const [url] = process.argv.slice(2)
if (url === undefined) {
  process.stderr.write('usage: sqs-child.ts <listen URL>\n')
  process.exit(2)
}

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))
const registry = new Registry({ onError: (err) => void process.stderr.write(`error ${err.code}: ${err.message}\n`) })
registry.on(Seq, async ({ seq }) => {
  process.stdout.write(`received ${seq}\n`)
  // A handler that never ends, as one that crashes the process would.
  await new Promise(() => undefined)
})
await listen(url, { registry })
process.stdout.write('ready\n')
