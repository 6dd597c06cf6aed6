import { MemoryHub, connect, listen, type Server } from '../../src/index.js'
import { runConformance } from './suite.js'

let n = 0
const hubs = new WeakMap<Server, MemoryHub>()

runConformance({
  name: 'memory',
  features: { reply: true, connected: false, persistent: false, orderingByKey: true, orderedWithoutKey: true, redelivery: true },
  async pair(serverOptions, clientOptions) {
    // A hub per pair: tests never see each other's messages.
    const hub = new MemoryHub()
    const server = await listen(`memory://conformance-${++n}`, { ...serverOptions, hub })
    hubs.set(server, hub)
    const client = await connect(server.url, { ...clientOptions, hub })
    return { server, client }
  },
  competing(server, serverOptions) {
    return listen(server.url, { ...serverOptions, hub: hubs.get(server) as MemoryHub })
  },
  badUrls: ['memory://', 'memory://queue/path', 'memoryx://queue'],
})
