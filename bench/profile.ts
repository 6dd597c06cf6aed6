/**
 * Runs one seam-channel scenario long enough to profile it, e.g.
 * `NODE_OPTIONS=--cpu-prof npx tsx bench/profile.ts oneway` (the receiving
 * child process is profiled too). Not part of `npm run bench`.
 */
import { Registry, connect } from '../src/index.js'
import { Echo, EchoReply, ItemMsg, item } from './payload.js'
import { latency, oneWay, pipelined } from './measure.js'
import { startPeer } from './tcp.bench.js'

const what = process.argv[2] ?? 'oneway'
const peer = await startPeer()
const client = await connect(peer.ready.ours, { registry: new Registry().register(EchoReply) })
const ask = (i: number): Promise<unknown> => client.request(Echo, item(i), { expect: EchoReply, timeoutMs: 10_000 })
try {
  for (let round = 0; round < 3; round++) {
    if (what === 'oneway') console.log('msg/s', Math.round(await oneWay(peer, 1_000_000, (i) => client.send(ItemMsg, item(i)))))
    else if (what === 'rtt') console.log('µs', await latency(ask))
    else console.log('req/s', Math.round(await pipelined(ask, 300_000)))
  }
} finally {
  await client.close()
  await peer.close()
}
