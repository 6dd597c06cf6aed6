/**
 * The conformance suite over stdio. A pair is a producer channel writing
 * into a `cat` process and a consumer channel reading what `cat` writes
 * back: the bytes cross the kernel twice, through the socket pairs Node gives
 * a child's stdio (real pipes, between processes, are what
 * test/integration/stdio-pipeline.test.ts uses). One way only, so the
 * features say: no replies, not connected.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach } from 'vitest'
import { connect, listen } from '../../src/index.js'
import type { StdioFormat } from '../../src/transports/stdio/index.js'
import { runConformance } from './suite.js'

const relays: ChildProcess[] = []
afterEach(() => {
  // Each cat ends when its producer closes; one a failed test left behind is ended by its PID.
  for (const cat of relays.splice(0)) if (cat.exitCode === null && cat.signalCode === null && cat.pid !== undefined) process.kill(cat.pid, 'SIGKILL')
})

function target(format: StdioFormat): Parameters<typeof runConformance>[0] {
  return {
    name: 'stdio',
    variant: format,
    features: { reply: false, connected: false, persistent: false, orderingByKey: true, orderedWithoutKey: true, redelivery: false },
    async pair(serverOptions, clientOptions) {
      const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] })
      relays.push(cat)
      const server = await listen(`stdio://?format=${format}`, { ...serverOptions, stdio: { input: cat.stdout } })
      const client = await connect(`stdio://?format=${format}`, { ...clientOptions, stdio: { output: cat.stdin } })
      return { server, client }
    },
    badUrls: ['stdio://host', 'stdio://user@', 'stdio:///dev/stdin', 'stdio://?format=xml', 'stdio://?nope=1', 'stdio://#frag', 'stdio://:8080'],
  }
}

runConformance(target('frames'))
runConformance(target('json'))
