/**
 * Runs a script of the library in a child process where one package (a
 * broker client) is not installed, and returns what it printed last as JSON.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HOOKS = new URL('./missing-module-hooks.mjs', import.meta.url).href
/** What the script imports the library from. */
export const LIBRARY_ENTRY = new URL('../../src/index.ts', import.meta.url).href

export interface ChildResult {
  readonly exitCode: number | null
  /** The child ran over its time and was killed by its PID. */
  readonly overran: boolean
  readonly stderr: string
  /** The last line of stdout, parsed. */
  readonly last: unknown
}

/** Runs `script` (an ES module, under tsx) without `pkg`, for at most `timeoutMs`. */
export async function withoutPackage(pkg: string, script: string, timeoutMs = 15_000): Promise<ChildResult> {
  const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(HOOKS)},{data:{name:${JSON.stringify(pkg)}}})`
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', register, '--input-type=module', '--eval', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  let overran = false
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const guard = setTimeout(() => {
    overran = true
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  }, timeoutMs)
  const exitCode = await exited.finally(() => clearTimeout(guard))
  const lastLine = stdout.trim().split('\n').pop() ?? ''
  let last: unknown
  try {
    last = JSON.parse(lastLine)
  } catch {
    last = undefined
  }
  return { exitCode, overran, stderr, last }
}

/**
 * Opens each of `opens` (`connect` or `listen` of a URL) in a child process
 * where `pkg` is not installed, and checks what a user would see: each
 * rejects with a SeamError `ERR_TRANSPORT`, not retriable, caused by
 * `ERR_MODULE_NOT_FOUND`, saying `npm install <pkg>`.
 */
export async function expectClientMissing(pkg: string, opens: readonly { readonly open: 'connect' | 'listen'; readonly url: string }[]): Promise<void> {
  const script = [
    `import { connect, listen } from ${JSON.stringify(LIBRARY_ENTRY)}`,
    'const out = []',
    `for (const [open, url] of ${JSON.stringify(opens.map((o) => [o.open, o.url]))}) {`,
    "  try { const c = await (open === 'connect' ? connect : listen)(url, { connectTimeoutMs: 2000 }); await c.close(); out.push({ resolved: true }) }",
    '  catch (e) { out.push({ name: e.name, code: e.code, retriable: e.retriable, message: e.message, cause: e.cause?.code }) }',
    '}',
    'console.log(JSON.stringify(out))',
  ].join('\n')
  const { exitCode, overran, stderr, last } = await withoutPackage(pkg, script)
  expect(overran, `the child ran over 15 s; stderr: ${stderr}`).toBe(false)
  expect(exitCode, stderr).toBe(0)
  const results = last as Record<string, unknown>[]
  expect(results).toHaveLength(opens.length)
  for (const result of results) {
    expect(result).toMatchObject({ name: 'SeamError', code: 'ERR_TRANSPORT', retriable: false, cause: 'ERR_MODULE_NOT_FOUND' })
    expect(result.message).toContain(`npm install ${pkg}`)
  }
}
