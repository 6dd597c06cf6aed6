/**
 * Consumer groups as a user relies on them: a second group gets every record
 * again, and a new group starts at the latest offset unless fromBeginning.
 * Against the test broker (mokapi, or KAFKA_BROKERS).
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Registry, connect, defineMessage, listen } from '../../src/index.js'
import { closedAfterEach, waitFor } from '../helpers.js'
import { fastKafka, freshGroup, freshTopic, kafkaUrl, useKafka, withoutTornFetches } from '../helpers/kafka.js'

const Note = defineMessage('kafka-groups.Note', t.type({ seq: t.number }))

useKafka()
const open = closedAfterEach()

async function member(topic: string, group: string, fromBeginning: boolean): Promise<number[]> {
  const got: number[] = []
  const registry = new Registry()
  registry.on(Note, (n) => void got.push(n.seq))
  open.push(await listen(`${kafkaUrl()}/${topic}?group=${group}&fromBeginning=${fromBeginning}`, withoutTornFetches({ registry, kafka: fastKafka })))
  return got
}

// A retry only when the test broker crashed or tore a fetch under the first attempt (see useKafka).
describe('kafka consumer groups', { retry: 1 }, () => {
  it('each group gets every record; within a group each record goes to one member', async () => {
    const topic = freshTopic()
    const groupA = freshGroup()
    // Members of one group start together (the test broker serves a late joiner badly).
    const [a1, a2, b] = await Promise.all([member(topic, groupA, true), member(topic, groupA, true), member(topic, freshGroup(), true)])
    const sender = await connect(`${kafkaUrl()}/${topic}`, { kafka: fastKafka })
    open.push(sender)
    // A group settles its split asynchronously: on a loaded machine one member may join after the other was given
    // every partition, until the next rebalance. So records go in rounds until both members have had some. A partition
    // of a member the test broker dropped waits until that member is back (10–13 s on mokapi), hence the long wait.
    let n = 0
    for (let round = 0; round < 4 && (round === 0 || a1.length === 0 || a2.length === 0); round++) {
      const from = n
      n += 100
      await Promise.all(Array.from({ length: 100 }, (_, i) => sender.send(Note, { seq: from + i }, { key: `k${(from + i) % 20}` })))
      await waitFor(() => a1.length + a2.length >= n && b.length >= n, 30_000, `both groups to get every record (group A ${a1.length}+${a2.length}, group B ${b.length} of ${n})`)
    }
    const all = (xs: number[]): number[] => [...xs].sort((x, y) => x - y)
    expect(all([...a1, ...a2])).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(all(b)).toEqual(Array.from({ length: n }, (_, i) => i))
    // The group split the partitions between its members.
    expect(a1.length).toBeGreaterThan(0)
    expect(a2.length).toBeGreaterThan(0)
  }, 130_000)

  it('a new group starts at the latest offset, or at the earliest with fromBeginning', async () => {
    const topic = freshTopic()
    const sender = await connect(`${kafkaUrl()}/${topic}`, { kafka: fastKafka })
    open.push(sender)
    await Promise.all([0, 1, 2].map((seq) => sender.send(Note, { seq }, { key: 'k' })))
    const [latest, earliest] = await Promise.all([member(topic, freshGroup(), false), member(topic, freshGroup(), true)])
    await sender.send(Note, { seq: 3 }, { key: 'k' })
    await waitFor(() => earliest.length === 4 && latest.length === 1, 10_000, 'the record sent after both joined')
    expect(earliest).toEqual([0, 1, 2, 3])
    expect(latest).toEqual([3])
  })
})
