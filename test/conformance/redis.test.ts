import { connect, listen } from '../../src/index.js'
import { fastRedis, freshGroup, freshStream, redisUrl, useRedis } from '../helpers/redis.js'
import { runConformance } from './suite.js'

useRedis()

runConformance({
  name: 'redis',
  // One stream read by one consumer is ordered; competing consumers share entries with no regard for keys.
  features: { reply: true, connected: false, persistent: true, orderingByKey: false, orderedWithoutKey: true, redelivery: true },
  async pair(serverOptions, clientOptions) {
    const stream = freshStream()
    const server = await listen(`${redisUrl()}/${stream}?group=${freshGroup()}`, { ...serverOptions, redis: fastRedis })
    const client = await connect(`${redisUrl()}/${stream}`, { ...clientOptions, redis: fastRedis })
    return { server, client }
  },
  competing(server, serverOptions) {
    return listen(server.url, { ...serverOptions, redis: fastRedis })
  },
  badUrls: ['redis://', 'redis://127.0.0.1:6379/s?nope=1', 'redis://127.0.0.1:6379/s?fromStart=maybe', 'redis://127.0.0.1:x/s', 'redis://127.0.0.1:6379/a/b', 'redis://127.0.0.1:6379/s?maxLen=lots', 'redis://127.0.0.1:6379/s#frag'],
})
