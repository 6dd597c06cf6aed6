import * as os from 'node:os'

/**
 * One line of the benchmark table: a figure of ours next to the baseline it
 * is judged against, measured in the same run.
 */
export interface Row {
  /** What was measured, e.g. `tcp one-way 100 B`. */
  name: string
  /** Our figure. */
  ours: number
  /** The baseline's figure (raw socket, same codec). */
  baseline: number
  /** Unit of both figures, e.g. `msg/s` or `µs`. */
  unit: string
  /** Whether a larger figure is the better one (throughput) or not (latency). */
  higherIsBetter: boolean
  /** Every round's ratio, ascending; the row's figures are those of the median round. */
  rounds?: readonly number[]
}

/** `ours / baseline`; the caller reads it together with `higherIsBetter`. */
export function ratio(row: Row): number {
  return row.baseline === 0 ? Number.NaN : row.ours / row.baseline
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US')
  if (Math.abs(n) >= 100) return n.toFixed(0)
  return n.toFixed(1)
}

/** Header lines naming when and where the figures were taken. */
export function machineHeader(now: Date = new Date()): string[] {
  const cpus = os.cpus()
  return [
    `date:  ${now.toISOString().slice(0, 10)}`,
    `node:  ${process.version} (${process.platform}/${process.arch})`,
    `cpu:   ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores`,
  ]
}

/**
 * Renders rows as a plain-text table (also valid Markdown) with columns name,
 * ours, baseline, unit, ratio and the rounds' ratios. The ratio column says
 * which way is better so that `0.8× (higher is better)` and `1.2× (lower is
 * better)` read correctly; the last column shows how far the rounds spread,
 * which says how much a single figure on this machine can be trusted.
 */
export function formatTable(rows: readonly Row[]): string {
  const header = ['benchmark', 'ours', 'baseline', 'unit', 'ratio', 'rounds: lowest–highest ratio']
  const body = rows.map((r) => [
    r.name,
    formatNumber(r.ours),
    formatNumber(r.baseline),
    r.unit,
    `${ratio(r).toFixed(2)}× (${r.higherIsBetter ? 'higher' : 'lower'} is better)`,
    spread(r.rounds),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const numeric = [false, true, true, false, false, false]
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |'
  const rule = '|' + widths.map((w, i) => (numeric[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [line(header), rule, ...body.map(line)].join('\n')
}

function spread(rounds: readonly number[] | undefined): string {
  if (rounds === undefined || rounds.length === 0) return ''
  return `${(rounds[0] as number).toFixed(2)}–${(rounds[rounds.length - 1] as number).toFixed(2)} over ${rounds.length}`
}

/** Prints the machine header and the table to stdout. */
export function printReport(rows: readonly Row[], now: Date = new Date()): void {
  process.stdout.write(machineHeader(now).join('\n') + '\n\n' + formatTable(rows) + '\n')
}
