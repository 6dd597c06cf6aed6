/**
 * `npm run bench`: runs every `bench/*.bench.ts` module's `run()` in
 * sequence (never in parallel: they would compete for the two cores) and
 * prints one table. Not a test: figures depend on the machine and its load.
 *
 * The script compiles src and bench with tsc into .bench-out and runs that
 * with plain node: users run compiled JavaScript, and a loader such as tsx
 * adds a helper call to every closure, which costs us ~2 µs per round trip.
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { printReport, type Row } from './report.js'

interface BenchModule {
  run(): Promise<Row[]>
}

const dir = fileURLToPath(new URL('.', import.meta.url))
// Compiled (.js, the normal case) or run from source (.ts, e.g. under tsx while developing).
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
// `npm run bench -- tcp tls` runs only the named benchmarks.
const only = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith(`.bench${ext}`))
  .filter((f) => only.length === 0 || only.includes(f.slice(0, -`.bench${ext}`.length)))
  .sort()

const rows: Row[] = []
const started = Date.now()
for (const file of files) {
  const t0 = Date.now()
  process.stderr.write(`running ${file} …`)
  const mod = (await import(pathToFileURL(`${dir}/${file}`).href)) as BenchModule
  if (typeof mod.run !== 'function') throw new Error(`${file} must export async function run(): Promise<Row[]>`)
  rows.push(...(await mod.run()))
  process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
}
process.stderr.write(`all benchmarks: ${((Date.now() - started) / 1000).toFixed(1)} s\n\n`)
printReport(rows)
