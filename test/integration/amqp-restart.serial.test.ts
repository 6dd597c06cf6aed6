/**
 * Reconnect tested by actually restarting the server (Watermill's
 * RestartServiceCommand): RabbitMQ's app is stopped and started with
 * rabbitmqctl while 10 000 persistent messages go through a durable queue.
 * It stops a broker every other test shares, so it runs alone, after them
 * (vitest.serial.config.ts), and it leaves RabbitMQ running even when it fails.
 */
import { execFile } from 'node:child_process'
import * as t from 'io-ts'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, defineMessage, listen, Registry, type Channel, type SeamError, type Server } from '../../src/index.js'
import { collectErrors, sleep, waitFor, within } from '../helpers.js'
import { AMQP_URL, freshQueue, rawAmqp, useRabbit } from '../helpers/amqp.js'

const Seq = defineMessage('amqp.restart.Seq', t.type({ seq: t.number }))
const TOTAL = 10_000
const RABBITMQCTL = process.env.RABBITMQCTL ?? 'rabbitmqctl'

useRabbit()

/** Runs rabbitmqctl, killed after `timeoutMs`; never throws. */
function rabbitmqctl(args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string; ms: number }> {
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(RABBITMQCTL, args, { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ ok: err === null, output: `${stdout}${stderr}`.trim(), ms: Date.now() - started }))
  })
}

/** Resolves once a plain connection to the broker opens; throws after `timeoutMs`. */
async function brokerAnswers(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await (await rawAmqp()).close()
      return
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`RabbitMQ did not accept a connection within ${timeoutMs} ms: ${(err as Error).message}`)
      await sleep(100)
    }
  }
}

/** Starts RabbitMQ's app again when `rabbitmqctl status` says it is not running (status fails then), and waits until it answers. */
async function leaveRabbitRunning(): Promise<void> {
  const status = await rabbitmqctl(['status'], 30_000)
  if (!status.ok) {
    const start = await rabbitmqctl(['start_app'], 60_000)
    if (!start.ok) console.error(`rabbitmqctl start_app failed: ${start.output}`)
  }
  await brokerAnswers(30_000)
}

afterAll(leaveRabbitRunning, 120_000)

/** Every status the channel reports, with when. */
function statuses(ch: Channel): { state: 'up' | 'down'; at: number }[] {
  const seen: { state: 'up' | 'down'; at: number }[] = []
  ch.events.on('status', (state) => void seen.push({ state, at: Date.now() }))
  return seen
}

function peerOf(server: Server): Channel {
  const [peer] = server.peers
  if (peer === undefined) throw new Error('the AMQP listener has no channel')
  return peer
}

describe('amqp: RabbitMQ restarts under load', () => {
  it('loses no message, and publishing and consuming resume by themselves', async () => {
    const q = freshQueue('restart')
    const url = `${AMQP_URL}/?queue=${q}`
    const options = { connectTimeoutMs: 5000, amqp: { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } } }
    const runs = new Map<number, number>()
    const handledAt: number[] = []
    const registry = new Registry({ onError: () => undefined }).on(Seq, (v) => {
      runs.set(v.seq, (runs.get(v.seq) ?? 0) + 1)
      handledAt.push(Date.now())
    })
    const serverErrors = collectErrors()
    const clientErrors = collectErrors()
    let server: Server | undefined
    let client: Channel | undefined
    let stopSending = false
    try {
      server = await listen(url, { ...options, registry, onError: serverErrors.onError })
      client = await connect(url, { ...options, onError: clientErrors.onError })
      expect(client.features.persistent).toBe(true)
      const serverSeen = statuses(peerOf(server))
      const clientSeen = statuses(client)

      // About 1000 messages a second, so the restart lands mid-stream on both sides; sends made while the broker is away wait.
      const confirmedAt: number[] = []
      const failedSends: string[] = []
      const sending = (async () => {
        const sends: Promise<void>[] = []
        for (let seq = 0; seq < TOTAL && !stopSending; seq++) {
          const sent = (client as Channel).send(Seq, { seq })
          sends.push(sent.then(() => void confirmedAt.push(Date.now()), (err: SeamError) => void failedSends.push(`seq ${seq}: ${err.code}: ${err.message}`)))
          if (seq % 100 === 99) await sleep(100)
        }
        await Promise.all(sends)
      })()

      await waitFor(() => runs.size >= 1000, 15_000, '1000 messages handled before the restart')
      const stop = await rabbitmqctl(['stop_app'], 60_000)
      expect(stop.ok, `rabbitmqctl stop_app: ${stop.output}`).toBe(true)
      const atStop = runs.size
      const start = await rabbitmqctl(['start_app'], 60_000)
      expect(start.ok, `rabbitmqctl start_app: ${start.output}`).toBe(true)
      await brokerAnswers(30_000)
      const backAt = Date.now()

      await within(sending, 45_000, `confirming all ${TOTAL} sends`)
      expect(failedSends.slice(0, 5)).toEqual([])
      expect(confirmedAt.length).toBe(TOTAL)
      await waitFor(() => runs.size === TOTAL, 30_000, `all ${TOTAL} messages handled`)
      await waitFor(() => serverSeen.at(-1)?.state === 'up' && clientSeen.at(-1)?.state === 'up', 10_000, "both channels 'up' again")

      const duplicates = [...runs.values()].reduce((sum, n) => sum + n - 1, 0)
      console.log(
        `amqp restart: ${TOTAL} messages, ${atStop} handled when the app stopped (stop_app ${stop.ms} ms, start_app ${start.ms} ms); ` +
          `${duplicates} duplicates; statuses client ${clientSeen.map((s) => s.state).join(',')} server ${serverSeen.map((s) => s.state).join(',')}; ` +
          `onError ${clientErrors.errors.length} client / ${serverErrors.errors.length} server reports`,
      )
      expect(atStop).toBeLessThan(TOTAL)
      expect(clientSeen.slice(0, 2).map((s) => s.state)).toEqual(['down', 'up'])
      expect(serverSeen.slice(0, 2).map((s) => s.state)).toEqual(['down', 'up'])
      // Both sides went on by themselves once the broker was back.
      expect(confirmedAt.filter((at) => at > backAt).length).toBeGreaterThan(0)
      expect(handledAt.filter((at) => at > backAt).length).toBeGreaterThan(0)
      // Only reports of the lost connection and of reconnect attempts; nothing ended a channel.
      const notTransport = [...clientErrors.errors, ...serverErrors.errors].filter((e) => e.code !== 'ERR_TRANSPORT').map((e) => `${e.code}: ${e.message}`)
      expect(notTransport).toEqual([])
    } finally {
      stopSending = true
      await leaveRabbitRunning()
      await Promise.all([client?.close(), server?.close()])
    }
  }, 120_000)
})
