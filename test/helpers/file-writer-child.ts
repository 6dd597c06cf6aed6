/**
 * A file:// writer in a process of its own, for tests that read what another
 * process writes, or kill it by PID in the middle of a write
 * (test/integration/file-processes.test.ts, file-damage.test.ts):
 *
 *   node --import tsx test/helpers/file-writer-child.ts <file URL> <count> <padBytes> <batch>
 *
 * Sends `file.Seq` messages 0 … count-1 with a pad string of `padBytes`, in
 * groups of `batch` sends awaited together; prints `sent <seq>` for each
 * whose send resolved, then `done` after closing. Errors go to stderr.
 */
import * as t from 'io-ts'
import { Registry, connect, defineMessage } from '../../src/index.js'

const [url, countArg, padArg, batchArg] = process.argv.slice(2)
if (url === undefined || countArg === undefined || padArg === undefined || batchArg === undefined) {
  process.stderr.write('usage: file-writer-child.ts <file URL> <count> <padBytes> <batch>\n')
  process.exit(2)
}

const FileSeq = defineMessage('file.Seq', t.type({ seq: t.number, pad: t.string }))
const registry = new Registry({ onError: (err) => void process.stderr.write(`error ${err.code}: ${err.message}\n`) })
const channel = await connect(url, { registry })
process.stdout.write('ready\n')
const count = Number(countArg)
const batch = Number(batchArg)
const pad = 'x'.repeat(Number(padArg))
for (let seq = 0; seq < count; seq += batch) {
  const group: Promise<void>[] = []
  for (let s = seq; s < Math.min(count, seq + batch); s++) group.push(channel.send(FileSeq, { seq: s, pad }).then(() => void process.stdout.write(`sent ${s}\n`)))
  await Promise.all(group)
}
await channel.close()
process.stdout.write('done\n')
