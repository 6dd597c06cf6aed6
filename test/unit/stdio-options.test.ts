import { PassThrough } from 'node:stream'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { connect, defineMessage, listen } from '../../src/index.js'
import { readStdioOptions } from '../../src/transports/stdio/options.js'
import { codeOf, rejection } from '../helpers.js'

const url = (s: string): URL => new URL(s)
const Ping = defineMessage('opt.Ping', t.type({}))

describe('stdio options', () => {
  it('takes the format from the URL or the option (the option wins); frames by default, on the process streams', () => {
    expect(readStdioOptions(url('stdio://'), {}, 'x')).toMatchObject({ format: 'frames', input: process.stdin, output: process.stdout, ownInput: true, ownOutput: true, where: 'stdio://' })
    expect(readStdioOptions(url('stdio://?format=json'), {}, 'x')).toMatchObject({ format: 'json', where: 'stdio://?format=json' })
    expect(readStdioOptions(url('stdio://?format=json'), { stdio: { format: 'frames' } }, 'x').format).toBe('frames')
    const input = new PassThrough()
    expect(readStdioOptions(url('stdio:///'), { stdio: { input } }, 'x')).toMatchObject({ input, ownInput: false })
  })

  it('refuses a bad option with ERR_BAD_ARGUMENT naming it', () => {
    const bad = (stdio: object): string => {
      try {
        readStdioOptions(url('stdio://'), { stdio }, 'listen(stdio)')
      } catch (err) {
        return (err as Error).message
      }
      return 'accepted'
    }
    expect(bad({ format: 'xml' })).toBe('listen(stdio): option "stdio.format" must be "frames" or "json" (got "xml")')
    expect(bad({ input: 'stdin' })).toBe('listen(stdio): option "stdio.input" must be a readable stream')
    expect(bad({ output: {} })).toBe('listen(stdio): option "stdio.output" must be a writable stream')
    expect(bad({ maxFrameBytes: 0 })).toBe('listen(stdio): option "stdio.maxFrameBytes" must be an integer of at least 1 (got 0)')
    expect(codeOf(() => readStdioOptions(url('stdio://'), { stdio: { maxOutboxMessages: 1.5 } }, 'x'))).toBe('ERR_BAD_ARGUMENT')
  })

  it('refuses to write binary frames onto a terminal or to wait for them from one, and says what to do', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true })
    const err = await rejection(connect('stdio://', { stdio: { output: tty } }))
    expect(err.code).toBe('ERR_BAD_ARGUMENT')
    expect(err.message).toContain('stdio://?format=json')
    const ch = await connect('stdio://?format=json', { stdio: { output: tty } })
    await ch.close()
    const keyboard = Object.assign(new PassThrough(), { isTTY: true })
    const refused = await rejection(listen('stdio://', { stdio: { input: keyboard } }))
    expect(refused.code).toBe('ERR_BAD_ARGUMENT')
    expect(refused.message).toContain('standard input is a terminal')
    const typed = await listen('stdio://?format=json', { stdio: { input: keyboard } })
    await typed.close()
  })

  it('a listener reports its URL; it reads only, and a request is refused on a channel that cannot receive replies', async () => {
    const server = await listen('stdio://?format=json', { stdio: { input: new PassThrough() } })
    expect(server.url).toBe('stdio://?format=json')
    const [peer] = [...server.peers]
    expect(peer?.features).toMatchObject({ reply: false, connected: false })
    await server.close()
    const out = new PassThrough()
    const client = await connect('stdio://', { stdio: { output: out } })
    expect((await rejection(client.request(Ping, {}, { expect: Ping }))).code).toBe('ERR_TRANSPORT')
    await client.close()
  })
})
