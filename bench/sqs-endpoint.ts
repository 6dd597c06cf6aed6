/**
 * The SQS endpoint of the SQS bench. By default a fauxqs started for this run
 * in a process of its own (its CPU must not count as the client's), on a free
 * loopback port, killed by its pid when the bench ends, also when it fails.
 * With `SQS_ENDPOINT` the bench uses that endpoint (ElasticMQ, LocalStack,
 * or AWS with credentials from the SDK's chain) and starts nothing.
 *
 * Every run makes a queue of its own and deletes it after.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs'

export interface Endpoint {
  /** Where the SDK sends requests. */
  readonly url: string
  readonly region: string
  /** A local endpoint (plain HTTP) takes any credentials. */
  readonly local: boolean
  /** A plain SDK client set as ours sets its own (keep-alive sockets, enough for every poller). */
  client(): SQSClient
  /** A new queue, and its channel URL. */
  freshQueue(): Promise<{ url: string; channelUrl: string }>
  deleteQueue(url: string): Promise<void>
  close(): Promise<void>
}

const READY_LIMIT_MS = 20_000

export async function startEndpoint(): Promise<Endpoint> {
  const external = process.env.SQS_ENDPOINT
  if (external !== undefined && external !== '') return endpoint(external.replace(/\/$/, ''), undefined)
  const child = spawn(process.execPath, ['--input-type=module', '--eval', "const { startFauxqs } = await import('fauxqs'); const s = await startFauxqs({ port: 0, logger: false }); console.log(`port ${s.port}`)"], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fauxqs did not start within 20 s')), READY_LIMIT_MS)
    let out = ''
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString()
      const m = /port (\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.on('exit', (code) => reject(new Error(`fauxqs exited (${code}) before it listened`)))
  })
  return endpoint(`http://127.0.0.1:${port}`, child)
}

function endpoint(url: string, child: ChildProcess | undefined): Endpoint {
  const region = process.env.SQS_REGION ?? 'us-east-1'
  const local = !url.startsWith('https:')
  const make = (): SQSClient =>
    new SQSClient({
      endpoint: url,
      region,
      requestHandler: { httpAgent: { keepAlive: true, maxSockets: 64 }, httpsAgent: { keepAlive: true, maxSockets: 64 } },
      ...(local ? { credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } } : {}),
    })
  const admin = make()
  return {
    url,
    region,
    local,
    client: make,
    async freshQueue() {
      const name = `seam-bench-${randomBytes(5).toString('hex')}`
      const out = await admin.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }))
      const host = new URL(url).host
      return { url: out.QueueUrl as string, channelUrl: `sqs://${host}/${name}?region=${region}&waitTimeSeconds=1` }
    },
    async deleteQueue(queueUrl) {
      await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined)
    },
    async close() {
      admin.destroy()
      if (child !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child.on('exit', resolve))
        process.kill(child.pid as number, 'SIGKILL')
        await exited
      }
    },
  }
}
