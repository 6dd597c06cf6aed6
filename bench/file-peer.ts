/**
 * The writing end of the file benchmark's pipeline (see file.bench.ts), in a
 * process of its own, as a producer on another core would be:
 *
 *   node file-peer.js <ours|raw|raw-padded> <path> <n>
 *
 * Prints `ready` once loaded and its file open, waits for a line on standard
 * input, writes `n` payloads to `path` (ours: typed sends through a file://
 * channel, awaited every 128; raw: file-raw.ts's frames in 64 KiB writes; raw-padded: the same, each
 * frame padded to our frame's length),
 * then prints `done`.
 */
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { connect } from '../src/index.js'
import { rawWrite } from './file-raw.js'
import { ENVELOPE_PAD, ItemMsg, item } from './payload.js'

const AWAIT_EVERY = 128
const [side, path, count] = process.argv.slice(2)
const n = Number(count)
if ((side !== 'ours' && side !== 'raw' && side !== 'raw-padded') || path === undefined || !(n > 0)) {
  process.stderr.write('usage: file-peer.js <ours|raw|raw-padded> <path> <n>\n')
  process.exit(2)
}

const channel = side === 'ours' ? await connect(pathToFileURL(path).href) : undefined
const lines = createInterface({ input: process.stdin })
process.stdout.write('ready\n')
await new Promise((resolve) => lines.once('line', resolve))
lines.close()
if (channel === undefined) await rawWrite(path, n, 'a', side === 'raw-padded' ? ENVELOPE_PAD : 0)
else {
  for (let i = 0; i < n; i++) {
    const sent = channel.send(ItemMsg, item(i))
    if (i % AWAIT_EVERY === 0) await sent
  }
  await channel.close()
}
process.stdout.write('done\n')
