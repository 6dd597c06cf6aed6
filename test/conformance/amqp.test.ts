import { connect, listen, type Server } from '../../src/index.js'
import { AMQP_URL, freshQueue, useRabbit } from '../helpers/amqp.js'
import { runConformance } from './suite.js'

useRabbit()
const urls = new WeakMap<Server, string>()

runConformance({
  name: 'amqp',
  features: { reply: true, connected: false, persistent: true, orderingByKey: false, orderedWithoutKey: true, redelivery: true },
  async pair(serverOptions, clientOptions) {
    const url = `${AMQP_URL}/?queue=${freshQueue('conf')}`
    const server = await listen(url, serverOptions)
    urls.set(server, url)
    const client = await connect(url, clientOptions)
    return { server, client }
  },
  competing(server, serverOptions) {
    return listen(urls.get(server) as string, serverOptions)
  },
  badUrls: ['amqp://', 'amqp://127.0.0.1/a/b', 'amqp://127.0.0.1/?nope=1', 'amqp://127.0.0.1/?prefetch=many', 'amqp://127.0.0.1/?durable=yes', 'amqp://127.0.0.1/%zz', 'amqpx://127.0.0.1'],
})
