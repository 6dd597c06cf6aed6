import { connect, listen } from '../../src/index.js'
import { freshQueue, useSqs } from '../helpers/sqs.js'
import { runConformance } from './suite.js'
import type { ConformanceTarget } from './target.js'

useSqs()

const badUrls = ['sqs://127.0.0.1:4566/a/b/c', 'sqs://127.0.0.1:4566/000000000000/q?nope=1', 'sqs://127.0.0.1:4566/000000000000/q?waitTimeSeconds=soon', 'sqs://127.0.0.1:x/q', 'sqs://user:pw@127.0.0.1:4566/q', 'sqs://127.0.0.1:4566/bad%20queue!', 'sqs://127.0.0.1:4566/12/q']

function target(fifo: boolean): ConformanceTarget {
  return {
    name: 'sqs',
    variant: fifo ? 'FIFO queue' : 'standard queue',
    // A FIFO queue orders by message group (the ordering key); a standard queue keeps no order at all.
    features: { reply: true, connected: false, persistent: true, orderingByKey: fifo, orderedWithoutKey: false, redelivery: true },
    async pair(serverOptions, clientOptions) {
      const queue = await freshQueue({ fifo, visibilityTimeout: 5 })
      const replies = await freshQueue({ visibilityTimeout: 5 })
      const server = await listen(queue.channelUrl, serverOptions)
      const client = await connect(queue.channelUrl, { ...clientOptions, sqs: { replyQueue: replies.name } })
      return { server, client }
    },
    competing(server, serverOptions) {
      return listen(server.url, serverOptions)
    },
    badUrls,
  }
}

runConformance(target(true))
runConformance(target(false))
