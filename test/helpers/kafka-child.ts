/**
 * A Kafka listener in a process of its own, for a test to kill with SIGKILL
 * (test/integration/kafka-guarantees.test.ts):
 *
 *   node --import tsx test/helpers/kafka-child.ts <listen URL> <handler ms> <concurrency> <kafka options as JSON>
 *
 * Handles `guarantee.Seq` messages, each taking `handler ms`, and prints
 * `ready` once it joined its group, then `handled <seq>` as the last act of
 * each handler (stdout to a pipe is synchronous on Linux, so what the parent
 * read is exactly what was handled before the kill). Errors go to stderr.
 * It runs until killed.
 */
import * as t from 'io-ts'
import { Registry, defineMessage, listen, type KafkaOptions } from '../../src/index.js'

const [url, handlerMs, concurrency, kafka] = process.argv.slice(2)
if (url === undefined || handlerMs === undefined || concurrency === undefined || kafka === undefined) {
  process.stderr.write('usage: kafka-child.ts <listen URL> <handler ms> <concurrency> <kafka options as JSON>\n')
  process.exit(2)
}

const Seq = defineMessage('guarantee.Seq', t.type({ seq: t.number }))
const registry = new Registry({ onError: (err) => void process.stderr.write(`error ${err.code}: ${err.message}\n`) })
registry.on(Seq, async ({ seq }) => {
  await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)))
  process.stdout.write(`handled ${seq}\n`)
})
await listen(url, { registry, concurrency: Number(concurrency), kafka: JSON.parse(kafka) as KafkaOptions })
process.stdout.write('ready\n')
