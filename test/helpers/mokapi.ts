/**
 * The test Kafka broker: mokapi (npm package go-mokapi, a Kafka-protocol
 * server written in Go), serving the topics of test/fixtures/kafka/asyncapi.yaml
 * on a free port. Tests use it through ./kafka.ts (`useKafka()`).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from '../helpers.js'

/** The AsyncAPI file that declares every topic the tests may use. */
export const FIXTURE = fileURLToPath(new URL('../fixtures/kafka/asyncapi.yaml', import.meta.url))

/** A mokapi this process started. */
export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for kafkajs `brokers`. */
  readonly brokers: string
  /** Its port: `startKafka({ port })` starts another broker where this one's clients look. */
  readonly port: number
  /** `kafka://127.0.0.1:<port>`: a channel URL without its topic. */
  readonly url: string
  readonly pid: number
  /** The last 64 KiB mokapi printed (it logs joins, commits and errors), to explain a failure. */
  output(): string
  /** False once the process has ended, by stop() or by itself (mokapi can crash: a Go data race under concurrent commits). */
  alive(): boolean
  /** Kills the process by its PID and resolves once it exited (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>
}

const START_MS = 15_000
const HOST_LINE = 'host: 127.0.0.1:9092'
const FLAGS = [
  // The HTTP API would take :8080, so a second broker (another test file) could not start; port 0 is any free port.
  '--api-port=0',
  // Its dashboard's search index and event log cost ~4× the produce time and most of its memory.
  '--api-dashboard=false',
  '--api-search-enabled=false',
  '--event-store-default-size=10',
  '--health-enabled=false',
  '--mcp-server-enabled=false',
]

/**
 * Starts mokapi on a free port, or on `port` (a broker started again where
 * its clients look for it; it keeps nothing of the last one's records,
 * groups or offsets), and resolves once it answers a Kafka metadata request
 * for a declared topic (at most 15 s). Rejects with what mokapi printed when
 * it exits, fails or stays silent; the process is then gone.
 */
export async function startKafka(options: { port?: number } = {}): Promise<KafkaBroker> {
  const bin = mokapiBinary()
  const spec = await readFile(FIXTURE, 'utf8')
  if (spec.split(HOST_LINE).length !== 2) throw new Error(`${FIXTURE} must hold "${HOST_LINE}" once: the helper puts the port there`)
  const deadline = Date.now() + START_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(bin, spec, deadline, options.port)
    } catch (err) {
      // The free port we saw can be taken before mokapi binds it (mokapi binds every interface, we probed loopback); a port asked for is not traded.
      if (!(err instanceof PortTaken) || options.port !== undefined || attempt === 3) throw err
    }
  }
}

class PortTaken extends Error {}

async function launch(bin: string, spec: string, deadline: number, wanted: number | undefined): Promise<KafkaBroker> {
  const port = wanted ?? (await freePort())
  const brokers = `127.0.0.1:${port}`
  // A folder of its own: mokapi runs every script beside the file it serves and reloads on any change there.
  const dir = await mkdtemp(join(tmpdir(), 'seam-mokapi-'))
  const file = join(dir, 'asyncapi.yaml')
  await writeFile(file, spec.replace(HOST_LINE, `host: ${brokers}`))
  const child = spawn(bin, [...FLAGS, file], { env: withoutMokapiVars(), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (chunk: Buffer): void => void (out = (out + chunk.toString('utf8')).slice(-64 * 1024))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let ended: string | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => resolve(void (ended = signal ?? `exit code ${code}`)))
    child.once('error', (err) => resolve(void (ended ??= err.message)))
  })
  // Never leave a broker behind the test process, even when afterAll never runs.
  const killAtExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killAtExit)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', killAtExit)
      if (ended === undefined) {
        child.kill('SIGTERM')
        if (!(await settles(exited, 5000))) {
          child.kill('SIGKILL')
          await settles(exited, 2000)
        }
      }
      await rm(dir, { recursive: true, force: true })
    })())
  const broker: KafkaBroker = { brokers, port, url: `kafka://${brokers}`, pid: child.pid ?? -1, output: () => out, alive: () => ended === undefined, stop }

  const why = (what: string): Error => new Error(`mokapi ${what}\n  command: ${bin} ${[...FLAGS, file].join(' ')}\n  output (last lines):\n${lastLines(out, 30)}`)
  for (;;) {
    if (ended !== undefined) {
      await stop()
      throw why(`ended (${ended}) before it answered on ${brokers}`)
    }
    if (out.includes('address already in use')) {
      await stop()
      throw new PortTaken(`port ${port} was taken`)
    }
    // Our own line first: whoever took the port in the meantime may be a Kafka too.
    if (out.includes(`on port ${port}`) && (await answers(brokers)) && !out.includes('address already in use')) {
      // A broker that dies under a test fails it with ECONNREFUSED, which says nothing of why: mokapi's last words do.
      void exited.then(() => {
        if (stopping === undefined) process.stderr.write(`${why(`on ${brokers} ended (${ended}) while tests used it`).message}\n`)
      })
      return broker
    }
    if (Date.now() >= deadline) {
      await stop()
      throw why(`did not answer Kafka requests on ${brokers} within ${START_MS} ms`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The platform binary go-mokapi installs: the bin/ wrapper would put a node process between us and the PID we kill. */
function mokapiBinary(): string {
  const pkg = `@go-mokapi/${process.platform}-${process.arch === 'arm64' ? 'arm64' : 'x64'}`
  let bin: string | undefined
  try {
    bin = createRequire(import.meta.url)(pkg) as string
  } catch {
    // reported below
  }
  if (bin === undefined || !existsSync(bin)) {
    throw new Error(`the Kafka tests need mokapi, but ${pkg} ${bin === undefined ? 'is not installed' : `has no binary at ${bin}`}: run "npm install" (go-mokapi is a devDependency), or point KAFKA_BROKERS at a Kafka`)
  }
  return bin
}

/** Our environment minus MOKAPI_* variables: mokapi reads them as its settings and refuses any it does not know. */
function withoutMokapiVars(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^MOKAPI_/i.test(name)))
}

/** True once `brokers` answers a metadata request for a declared topic; one bounded attempt. */
async function answers(brokers: string): Promise<boolean> {
  const kafka = new Kafka({ brokers: [brokers], clientId: 'seam-test-probe', logLevel: logLevel.NOTHING, connectionTimeout: 500, requestTimeout: 1000, retry: { retries: 0 } })
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.fetchTopicMetadata({ topics: ['seam.t0'] })
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

function settles(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([p.then(() => true), late]).finally(() => clearTimeout(timer))
}

function lastLines(text: string, n: number): string {
  // Without the ASCII-art banner mokapi opens with.
  const lines = text.replace(/^[\s\S]*?https:\/\/mokapi\.io[^\n]*\n(?:[ \t]*888[ \t]*\n)*/, '').trimEnd().split('\n').slice(-n)
  return lines.length === 0 || lines[0] === '' ? '    (nothing)' : lines.map((l) => `    ${l}`).join('\n')
}
