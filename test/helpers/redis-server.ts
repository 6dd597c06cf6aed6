/**
 * A redis-server of a test's own, on a free loopback port, persisting every
 * write before it answers (`--appendonly yes --appendfsync always`) in a
 * fresh temporary folder, so that it can be killed by its PID and started
 * again on the same port with what it had acknowledged. Never the machine's
 * own Redis. With `tls`, that port serves TLS only (`--tls-port`, `--port 0`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers.js'

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'

/** Certificate files for a TLS-only server (see test/helpers/certs.ts). */
export interface RedisTlsFiles {
  /** The server's certificate and key. */
  readonly certPath: string
  readonly keyPath: string
  /** The CA client certificates are checked against. */
  readonly caPath: string
  /** Require a client certificate signed by that CA (`--tls-auth-clients yes`); default false. */
  readonly authClients?: boolean
}

export interface OwnRedis {
  readonly port: number
  /** `redis://127.0.0.1:port`, or `rediss://…` when started with `tls`. */
  readonly url: string
  /** The PID of the server running now. */
  readonly pid: number
  /** Kills the server by its PID (SIGKILL) and waits until it has exited. */
  kill(): Promise<void>
  /** Starts the server again on the same port and folder; resolves once it accepts connections. */
  start(): Promise<void>
  /** Kills it if it runs and deletes its folder. */
  dispose(): Promise<void>
}

/** Starts a redis-server of its own, serving TLS only when `tls` is given; resolves once it accepts connections. */
export async function ownRedis(tls?: RedisTlsFiles): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'seam-redis-'))
  const port = await freePort()
  let proc: ChildProcess | undefined

  async function start(): Promise<void> {
    const listening =
      tls === undefined
        ? ['--port', String(port)]
        : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certPath, '--tls-key-file', tls.keyPath, '--tls-ca-cert-file', tls.caPath, '--tls-auth-clients', tls.authClients === true ? 'yes' : 'no']
    const args = [...listening, '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'yes']
    const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    proc = p
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} was not ready within 10 s: ${output}`)), 10_000)
      const seen = (b: Buffer): void => {
        output += b.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      }
      p.stdout?.on('data', seen)
      p.stderr?.on('data', seen)
      p.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`))
      })
      p.once('error', (err) => {
        clearTimeout(timer)
        reject(new Error(`${REDIS_SERVER} could not be started (${err.message}); install redis-server or set REDIS_SERVER`))
      })
    })
  }

  async function kill(): Promise<void> {
    const p = proc
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise((resolve) => p.once('exit', resolve))
    process.kill(p.pid as number, 'SIGKILL')
    await exited
  }

  await start()
  return {
    port,
    url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid as number
    },
    kill,
    start,
    async dispose() {
      await kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
