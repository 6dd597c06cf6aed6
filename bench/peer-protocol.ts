/**
 * How a benchmark talks to its receiving process: the parent arms the peer to
 * count n messages and starts sending only once the peer has acknowledged, so
 * no message can arrive before the counter is reset. Also what such a process
 * hosts (see {@link servePeer}).
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { Server as NetServer, Socket } from 'node:net'
import { Registry, type Server } from '../src/index.js'
import { Echo, EchoReply, ItemMsg } from './payload.js'
import { rawEcho, rawReader, rawServer } from './raw.js'

/** Parent → peer. */
export type PeerCommand = { expect: number } | { exit: true }
/** Peer → parent. */
export type PeerReport<Ready> = { ready: Ready } | { armed: number } | { done: number }
/** What a receiving process reports when it is ready: our server's URL and the baseline's ports. */
export type PeerReady = { ours: string; rawSink: number; rawEcho: number }

function next(child: ChildProcess, kind: 'armed' | 'done'): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: object): void => {
      if (kind in m) {
        child.off('message', on)
        resolve()
      }
    }
    child.on('message', on)
  })
}

/**
 * Arms the peer for `n` messages; resolves once it acknowledged, with
 * `done`: the n-th message arrived. (Wrapped in an object: an async function
 * returning a promise would wait for it.)
 */
async function arm(child: ChildProcess, n: number): Promise<{ done: Promise<void> }> {
  const armed = next(child, 'armed')
  const done = next(child, 'done')
  child.send({ expect: n } satisfies PeerCommand)
  await armed
  return { done }
}

/** Peer side: answers commands; returns the function to call per message counted. */
export function countingPeer(onExit: () => Promise<void>): () => void {
  let count = 0
  let expect = Infinity
  process.on('message', (cmd: PeerCommand) => {
    if ('expect' in cmd) {
      count = 0
      expect = cmd.expect
      process.send?.({ armed: cmd.expect })
      return
    }
    void onExit()
  })
  return () => {
    if (++count === expect) process.send?.({ done: count })
  }
}

/** Asks the peer to close and exit; kills it if it has not after 5 s. */
async function stopPeer(child: ChildProcess): Promise<void> {
  child.send({ exit: true } satisfies PeerCommand)
  const timer = setTimeout(() => child.kill(), 5000)
  await once(child, 'exit')
  clearTimeout(timer)
}

/** A receiving process, as the sending side drives it. */
export interface Peer<Ready> {
  readonly ready: Ready
  /** Arms the peer to count `n` one-way messages; resolves once armed, with `done`: the last one arrived. */
  expect(n: number): Promise<{ done: Promise<void> }>
  close(): Promise<void>
}

/** Waits for a forked peer to report ready, and wraps it. */
export async function peerHandle<Ready>(child: ChildProcess, what: string): Promise<Peer<Ready>> {
  const [first] = (await once(child, 'message')) as [PeerReport<Ready>]
  if (!('ready' in first)) throw new Error(`${what} did not start`)
  return { ready: first.ready, expect: (n) => arm(child, n), close: () => stopPeer(child) }
}

/**
 * Runs a benchmark's receiving process: our server (`listenOurs`) and the
 * baseline's sink and echo servers (`create` makes them; plain TCP by
 * default) in one process, so both are measured against the same receiver.
 * One-way messages are counted for the parent; reports ready when listening.
 */
export async function servePeer<S extends Socket>(
  name: string,
  listenOurs: (registry: Registry) => Promise<Server>,
  create?: (onConnection: (socket: S) => void) => NetServer,
): Promise<void> {
  // Only called on the parent's exit command, after the servers below exist.
  const counted = countingPeer(async () => {
    await ours.close()
    await sink.close()
    await echo.close()
    process.disconnect()
  })
  const registry = new Registry({ onError: (err) => console.error(`[${name}]`, err.code, err.message) })
  registry.on(ItemMsg, () => counted())
  registry.on(Echo, (value, ctx) => ctx.reply(EchoReply, value))
  const ours = await listenOurs(registry)
  const sink = await rawServer<S>((socket) => socket.on('data', rawReader(() => counted())), create)
  const echo = await rawServer<S>(rawEcho, create)
  process.send?.({ ready: { ours: ours.url, rawSink: sink.port, rawEcho: echo.port } } satisfies PeerReport<PeerReady>)
}
