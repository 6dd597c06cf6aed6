import { connect, listen } from '../../src/index.js'
import { fastKafka, freshGroup, freshTopic, kafkaUrl, replyTopic, useKafka, withoutTornFetches } from '../helpers/kafka.js'
import { runConformance } from './suite.js'

useKafka()

runConformance({
  name: 'kafka',
  features: { reply: true, connected: false, persistent: true, orderingByKey: true, orderedWithoutKey: false, redelivery: true },
  async pair(serverOptions, clientOptions) {
    const topic = freshTopic()
    const server = await listen(`${kafkaUrl()}/${topic}?group=${freshGroup()}&fromBeginning=true`, { ...withoutTornFetches(serverOptions), kafka: fastKafka })
    const client = await connect(`${kafkaUrl()}/${topic}?replyTopic=${replyTopic()}`, { ...withoutTornFetches(clientOptions), kafka: fastKafka })
    return { server, client }
  },
  // No competing consumer: the test broker shares every partition with a member that joins a group late (~27 s).
  badUrls: ['kafka://', 'kafka://127.0.0.1:9092/topic?nope=1', 'kafka://127.0.0.1:9092/topic?fromBeginning=maybe', 'kafka://127.0.0.1:x/topic', 'kafka://user:pw@127.0.0.1:9092/topic', 'kafka://127.0.0.1:9092/bad topic!', 'kafkax://127.0.0.1:9092/t'],
})
