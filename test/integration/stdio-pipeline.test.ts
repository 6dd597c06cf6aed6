/**
 * The stdio transport between real processes joined by real pipes (a bash
 * pipeline): typed values through producer | processor | sink, JSON lines
 * written by hand, garbage, a writer cut off mid-frame, and a reader that
 * goes away (EPIPE). The pipelines run concurrently: each is a few Node
 * processes that mostly wait for their start-up (about a second each alone,
 * several on a loaded machine), so each test gets a minute and each pipeline
 * 50 s before it is killed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runPipeline as run, type PipelineResult, type Stage } from '../helpers/stdio-pipeline.js'

const TEST_MS = 60_000
const runPipeline = (stages: readonly Stage[]): Promise<PipelineResult> => run(stages, 50_000)

const got = (lines: readonly string[]): string[] => lines.filter((l) => l.startsWith('got '))
const errors = (lines: readonly string[]): string[] => lines.filter((l) => l.startsWith('error '))

describe.concurrent('stdio: real pipes between processes', () => {
  it('typed values go through producer | processor | sink in order, and each stage exits 0 at the end of its input', async () => {
    // Frames on the first pipe, JSON lines on the second: both formats in one run.
    const r = await runPipeline([
      // More than a pipe holds (64 KiB), and the producer exits as soon as close() resolves: nothing may be lost.
      { fixture: 'producer.ts', args: ['--count', '5000'] },
      { fixture: 'processor.ts', args: ['--out', 'json'] },
      { fixture: 'sink.ts', args: ['--format', 'json'] },
    ])
    expect(r.stderr).toEqual([['sent 5000'], ['processed 5000'], [...Array.from({ length: 5000 }, (_, i) => `got pipe.Doubled {"seq":${i},"twice":${i * 2}}`), 'end handled=5000 undecodable=0 invalid=0']])
    expect(r.codes).toEqual([0, 0, 0])
  }, TEST_MS)

  it('a producer that exits as soon as close() resolves loses nothing, though its reader had not started reading', async () => {
    // The middle stage reads nothing for a second, and the last message is larger than a pipe holds:
    // when close() is called, bytes still wait in the producer, and close() must wait for them.
    const r = await runPipeline([{ fixture: 'producer.ts', args: ['--count', '2000', '--await', 'false', '--tailBytes', '1000000'] }, { shell: 'sleep 1; cat' }, { fixture: 'sink.ts' }])
    const [producer, , sink] = r.stderr as [string[], string[], string[]]
    expect(producer).toEqual(['sent 2001'])
    expect(got(sink)).toHaveLength(2001)
    expect(got(sink).at(-1)).toBe('got pipe.Item {"seq":2000,"textLength":1000000}')
    expect(sink.at(-1)).toBe('end handled=2001 undecodable=0 invalid=0')
    expect(r.codes).toEqual([0, 0, 0])
  }, TEST_MS)

  for (const format of ['frames', 'json'] as const) {
    it(`${format}: a producer that awaits its sends waits for a reader that does not read (backpressure), and loses nothing once it does`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'seam-stall-'))
      const marker = join(dir, 'stalled')
      try {
        // The middle stage reads nothing until the producer reports a send held up (at most 30 s), then passes everything on.
        // Without backpressure no send would wait: all 20 000 would pile up in the producer (or be refused by its
        // outbox of 50, as they were before the outbox wrote early at half its limit), and no marker would appear.
        const r = await runPipeline([
          { fixture: 'producer.ts', args: ['--count', '20000', '--format', format, '--maxOutboxMessages', '50', '--stallMarker', marker] },
          { shell: `for i in $(seq 1 600); do [ -e '${marker}' ] && break; sleep 0.05; done; cat` },
          { fixture: 'sink.ts', args: ['--format', format] },
        ])
        const [producer, , sink] = r.stderr as [string[], string[], string[]]
        expect(producer).toHaveLength(2)
        const [stall, end] = producer as [string, string]
        // More than a pipe holds went out before the stall, far less than all.
        const before = Number(/^stalled after (\d+)$/.exec(stall)?.[1])
        expect(before).toBeGreaterThan(100)
        expect(before).toBeLessThan(20_000)
        expect(end).toBe('sent 20000')
        expect(got(sink)).toHaveLength(20_000)
        expect(got(sink).at(-1)).toBe('got pipe.Item {"seq":19999,"text":"item 19999"}')
        expect(r.codes).toEqual([0, 0, 0])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }, TEST_MS)
  }

  it('JSON lines are one envelope per line with the body as its JSON value, readable by other tools', async () => {
    const r = await runPipeline([{ fixture: 'producer.ts', args: ['--count', '3', '--format', 'json', '--serde', 'json'] }, { shell: 'grep \'"seq":1\'' }])
    expect(r.codes).toEqual([0, 0])
    const lines = r.stdout.toString().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] as string)).toMatchObject({ tag: 'pipe.Item', body: { seq: 1, text: 'item 1' } })
  }, TEST_MS)

  it('a line written by hand with printf is dispatched; a garbage line and an invalid one are reported under their policies and the stream goes on', async () => {
    const lines = [
      '{"tag":"pipe.Item","body":{"seq":1,"text":"by hand"}}',
      'this is not json',
      '{"tag":"pipe.Item","body":{"seq":"x","text":"invalid"}}',
      '',
      // The last line has no line break: printf leaves it out, and it still counts.
      '{"tag":"pipe.Item","id":"h3","ts":5,"body":{"seq":3,"text":"last"}}',
    ].join('\\n')
    const r = await runPipeline([{ shell: `printf '${lines}'` }, { fixture: 'sink.ts', args: ['--format', 'json'] }])
    const [, sink] = r.stderr as [string[], string[]]
    expect(got(sink)).toEqual(['got pipe.Item {"seq":1,"text":"by hand"}', 'got pipe.Item {"seq":3,"text":"last"}'])
    expect(errors(sink)).toEqual([expect.stringMatching(/^error ERR_PROTOCOL: malformed JSON line: not JSON .*"this is not json"$/), 'error ERR_INVALID_PAYLOAD: payload of "pipe.Item" failed its codec: seq: expected number, got "x"'])
    expect(sink.at(-1)).toBe('end handled=2 undecodable=1 invalid=1')
    expect(r.codes).toEqual([0, 0])
  }, TEST_MS)

  it('a garbage frame is reported under the undecodable policy and reading goes on; a frame cut off by the end of input ends the sink with ERR_PROTOCOL', async () => {
    const r = await runPipeline([{ fixture: 'raw-frames.ts' }, { fixture: 'sink.ts' }])
    const [, sink] = r.stderr as [string[], string[]]
    expect(got(sink)).toEqual(['got pipe.Item {"seq":1,"text":"raw 1"}', 'got pipe.Item {"seq":2,"text":"raw 2"}'])
    expect(errors(sink)).toEqual([
      'error ERR_PROTOCOL: malformed envelope: byte 0xc1 at 0 is never valid MessagePack',
      'error ERR_PROTOCOL: the input ended in the middle of a frame (after 3 of 100 bytes of a frame): the writer died or was cut off mid-message',
    ])
    expect(sink.at(-1)).toBe('end handled=2 undecodable=1 invalid=0')
    expect(r.codes).toEqual([0, 1])
  }, TEST_MS)

  it('JSON lines fed to a frames listener end it with a clear ERR_PROTOCOL naming the fix', async () => {
    const r = await runPipeline([{ shell: `printf '{"tag":"pipe.Item","body":{"seq":1,"text":"x"}}\\n'` }, { fixture: 'sink.ts' }])
    expect(errors(r.stderr[1] ?? [])).toEqual(['error ERR_PROTOCOL: the input looks like JSON lines, not frames: listen on stdio://?format=json (or send with the frames format)'])
    expect(r.codes).toEqual([0, 1])
  }, TEST_MS)

  it('a reader that goes away (head -c 1) ends the producer with ERR_TRANSPORT naming EPIPE, not an uncaught exception', async () => {
    const r = await runPipeline([{ fixture: 'producer.ts', args: ['--count', '1000000'] }, { shell: 'head -c 1' }])
    const [producer] = r.stderr as [string[]]
    expect(producer).toContain('error ERR_TRANSPORT: standard output was closed by its reader (EPIPE): the next program in the pipeline exited or stopped reading, so nothing more can be sent')
    // The send in flight, or the next one if none was: refused, naming why.
    expect(producer.filter((l) => l.startsWith('send failed '))).toEqual([expect.stringMatching(/^send failed ERR_CLOSED: .*standard output was closed by its reader \(EPIPE\)/)])
    // The fixture's own exit code for a failed send: no crash, no stack trace.
    expect(producer.filter((l) => /^\s+at |Uncaught|Unhandled/.test(l))).toEqual([])
    expect(r.codes).toEqual([3, 0])
    expect(r.stdout.length).toBe(1)
  }, TEST_MS)

  it('when the last stage exits, the processor stops and the producer before it hears EPIPE in turn: the whole pipeline ends', async () => {
    const r = await runPipeline([{ fixture: 'producer.ts', args: ['--count', '1000000'] }, { fixture: 'processor.ts' }, { shell: 'head -c 1' }])
    const [producer, processor] = r.stderr as [string[], string[]]
    expect(processor).toContain('output ended: standard output was closed by its reader (EPIPE): the next program in the pipeline exited or stopped reading, so nothing more can be sent')
    expect(producer).toContain('error ERR_TRANSPORT: standard output was closed by its reader (EPIPE): the next program in the pipeline exited or stopped reading, so nothing more can be sent')
    expect([...producer, ...processor].filter((l) => /^\s+at |Uncaught|Unhandled/.test(l))).toEqual([])
    expect(r.codes).toEqual([3, 1, 0])
  }, TEST_MS)
})
