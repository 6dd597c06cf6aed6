import { connect, listen } from '../../src/index.js'
import { runConformance } from './suite.js'

runConformance({
  name: 'tcp',
  features: { reply: true, connected: true, persistent: false, orderingByKey: true, orderedWithoutKey: true, redelivery: false },
  async pair(serverOptions, clientOptions) {
    const server = await listen('tcp://127.0.0.1:0', serverOptions)
    const client = await connect(server.url, clientOptions)
    return { server, client }
  },
  badUrls: ['tcp://127.0.0.1', 'tcp://:7000', 'tcp://127.0.0.1:7000/path', 'tcpx://127.0.0.1:7000', '127.0.0.1:7000', 'tcp://127.0.0.1:99999', 'tcp://user:secret@127.0.0.1:7000', 'tcp://127.0.0.1:7000?timeout=5'],
})
