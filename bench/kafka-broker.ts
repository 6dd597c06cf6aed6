/**
 * The Kafka broker of the Kafka bench. By default a mokapi started for this
 * run only: the test fixture (test/fixtures/kafka/asyncapi.yaml) copied into
 * an empty temporary folder (mokapi runs any script next to the file it
 * serves) with the broker on a free port, killed by its pid when the bench
 * ends, also when it fails. Its output goes to a file in that folder, so
 * reading it costs this process no CPU while the client CPU is measured.
 *
 * With `KAFKA_BROKERS=host:port,…` the bench uses that cluster and starts
 * nothing. Neither side creates topics, so the cluster must already have
 * `${KAFKA_TOPIC_PREFIX ?? 'seam.t'}0`, `…1`, … (one a run: 3 × (rounds + 1),
 * 18 by default; any number of partitions, the fixture has 4), and they must be empty: every run
 * consumes its topic from the beginning, so each run takes the next topic,
 * and a topic that already holds records fails the bench rather than skew
 * it. Delete and create them again (or choose another prefix) between runs
 * of the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'

/** A cluster to run on, and the topics it offers one at a time. */
export interface Broker {
  readonly brokers: readonly string[]
  /** The next unused topic; throws once the fixture's topics are used up. */
  freshTopic(): string
  /** Rejects if `topic` holds records already (an external cluster reused without emptying). */
  checkEmpty(topic: string): Promise<void>
  /** Stops mokapi (if this started it) and removes its folder. Idempotent. */
  close(): Promise<void>
}

// The fixture declares seam.t0 … seam.t63.
const FIXTURE_TOPICS = 64
const READY_LIMIT_MS = 20_000

/** A group id no run has used. */
export function freshGroup(side: string): string {
  return `seam-bench.${side}.${randomBytes(6).toString('hex')}`
}

/** The baseline's kafkajs client, set as our transport sets its own (kafkajs-client.ts): short retries, silent logger. */
export function kafkaClient(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], connectionTimeout: 3000, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 }, logLevel: logLevel.NOTHING })
}

/** The external cluster of `KAFKA_BROKERS`, or a mokapi started now. */
export async function startBroker(): Promise<Broker> {
  const external = process.env.KAFKA_BROKERS
  if (external !== undefined && external !== '') return externalBroker(external.split(',').map((b) => b.trim()))
  return startMokapi()
}

function topics(prefix: string, limit: number): () => string {
  let next = 0
  return () => {
    if (next >= limit) throw new Error(`kafka bench: all ${limit} topics ${prefix}0…${prefix}${limit - 1} are used; a run uses one topic each`)
    return `${prefix}${next++}`
  }
}

async function checkEmpty(brokers: readonly string[], topic: string): Promise<void> {
  const admin = kafkaClient(brokers, 'seam-bench-admin').admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    const held = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
    if (held > 0) throw new Error(`kafka bench: topic "${topic}" already holds ${held} records; the bench needs empty topics (recreate them, or set KAFKA_TOPIC_PREFIX to fresh ones)`)
  } finally {
    await admin.disconnect()
  }
}

function externalBroker(brokers: string[]): Broker {
  const prefix = process.env.KAFKA_TOPIC_PREFIX ?? 'seam.t'
  return { brokers, freshTopic: topics(prefix, Number.MAX_SAFE_INTEGER), checkEmpty: (topic) => checkEmpty(brokers, topic), close: async () => {} }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The package's root: the nearest folder up with a package.json (the same from bench/ under tsx and from .bench-out/bench/). */
function packageRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test/fixtures/kafka'))) return dir
    if (path.dirname(dir) === dir) throw new Error('kafka bench: cannot find the package root (with test/fixtures/kafka)')
  }
}

/** The real mokapi binary (the package's .bin wrapper would be one more node process). */
function mokapiBinary(): string {
  const platform = `@go-mokapi/${process.platform}-${process.arch}`
  try {
    const bin = path.join(path.dirname(createRequire(import.meta.url).resolve(`${platform}/package.json`)), 'bin', process.platform === 'win32' ? 'mokapi.exe' : 'mokapi')
    if (existsSync(bin)) return bin
  } catch {
    // reported below
  }
  throw new Error(`kafka bench: no ${platform} binary (devDependency go-mokapi); install it, or set KAFKA_BROKERS to a cluster`)
}

// Killed at exit whatever happened, so a failed or interrupted bench never leaves a broker behind.
const running = new Map<ChildProcess, string>()
function killAll(): void {
  for (const [child, dir] of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  running.clear()
}
process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal) // the default action, now that this handler is gone
  })
}

async function startMokapi(): Promise<Broker> {
  const binary = mokapiBinary()
  const fixture = readFileSync(path.join(packageRoot(), 'test/fixtures/kafka/asyncapi.yaml'), 'utf8')
  if (!fixture.includes('127.0.0.1:9092')) throw new Error('kafka bench: the fixture no longer names its broker 127.0.0.1:9092')
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seam-bench-kafka-'))
  const file = path.join(dir, 'asyncapi.yaml')
  writeFileSync(file, fixture.replace('127.0.0.1:9092', `127.0.0.1:${port}`))
  const logFile = path.join(dir, 'mokapi.log')
  const log = openSync(logFile, 'w')
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MOKAPI_')))
  const args = ['--api-port=0', '--health-enabled=false', '--mcp-server-enabled=false', '--event-store-default-size=10', '--api-search-enabled=false', '--api-dashboard=false', file]
  const child = spawn(binary, args, { cwd: dir, env, stdio: ['ignore', log, log] })
  closeSync(log)
  running.set(child, dir)
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', (err) => ((spawnError = err), resolve()))
  })
  const brokers = [`127.0.0.1:${port}`]
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGTERM')
        const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
      running.delete(child)
      rmSync(dir, { recursive: true, force: true })
    })())
  try {
    await ready(brokers, child, exited, () => (spawnError === undefined ? '' : `${spawnError.message}\n`) + readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n'))
  } catch (err) {
    await close()
    throw err
  }
  return { brokers, freshTopic: topics('seam.t', FIXTURE_TOPICS), checkEmpty: async () => {}, close }
}

/** Resolves once a kafkajs admin lists the fixture's topics; rejects if mokapi exits or takes longer than READY_LIMIT_MS. */
async function ready(brokers: readonly string[], child: ChildProcess, exited: Promise<void>, tail: () => string): Promise<void> {
  const deadline = Date.now() + READY_LIMIT_MS
  let dead = false
  void exited.then(() => (dead = true))
  let last: unknown
  while (Date.now() < deadline && !dead) {
    const admin = kafkaClient(brokers, 'seam-bench-admin').admin()
    try {
      await admin.connect()
      const listed = await admin.listTopics()
      if (listed.includes('seam.t0')) return
      last = new Error(`topics listed: ${listed.length}`)
    } catch (err) {
      last = err
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const why = dead ? `mokapi exited (code ${child.exitCode}, signal ${child.signalCode})` : `no topic list within ${READY_LIMIT_MS / 1000} s (${last instanceof Error ? last.message : String(last)})`
  throw new Error(`kafka bench: ${why}; its last output:\n${tail()}`)
}
