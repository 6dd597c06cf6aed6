/**
 * The receiving side of the TCP benchmarks, run in its own process by
 * tcp.bench.ts (see servePeer).
 */
import { listen } from '../src/index.js'
import { servePeer } from './peer-protocol.js'

await servePeer('bench peer', (registry) => listen('tcp://127.0.0.1:0', { registry }))
