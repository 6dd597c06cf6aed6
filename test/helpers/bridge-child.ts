/**
 * A bridge in a process of its own, for a test to kill with SIGKILL
 * (test/integration/bridge-restart.test.ts):
 *
 *   node --import tsx test/helpers/bridge-child.ts <from URL> <to URL> <concurrency>
 *
 * Prints `ready` once both ends are open. On SIGTERM it closes the bridge
 * and prints `closed <forwarded>` before exiting 0. Errors go to stderr.
 */
import { bridge } from '../../src/index.js'

const [from, to, concurrency] = process.argv.slice(2)
if (from === undefined || to === undefined || concurrency === undefined) {
  process.stderr.write('usage: bridge-child.ts <from URL> <to URL> <concurrency>\n')
  process.exit(2)
}

const b = await bridge(from, to, { concurrency: Number(concurrency), onError: (err) => void process.stderr.write(`error ${err.code}: ${err.message}\n`) })
process.once('SIGTERM', () => {
  void b.close().then(() => {
    process.stdout.write(`closed ${b.stats().forwarded}\n`)
    process.exit(0)
  })
})
process.stdout.write('ready\n')
