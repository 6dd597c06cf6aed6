import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The package as npm would publish it works in plain Node, without any
 * TypeScript tooling: build with the project's build config into a temp
 * folder (the working tree's dist/ is left alone), `npm pack` it, install the
 * tarball by hand into an app that has only the runtime dependencies, and run
 * a plain ESM script there. No network.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, unknown>
  dependencies: Record<string, string>
}
const TIMEOUT = 120_000

describe('the packed package', () => {
  let tmp: string
  let app: string
  let listing: string[]

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'seam-package-'))
    const stage = join(tmp, 'stage')
    mkdirSync(stage)
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], { cwd: root, stdio: 'pipe', timeout: TIMEOUT })
    cpSync(join(root, 'package.json'), join(stage, 'package.json'))
    try {
      cpSync(join(root, 'README.md'), join(stage, 'README.md'))
    } catch {
      // The README is the lead's; the package works without it.
    }
    // --ignore-scripts: `prepare` would build into the working tree; the staged copy is already built the same way.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: stage, stdio: 'pipe', timeout: TIMEOUT, encoding: 'utf8' })
    const tarball = join(tmp, out.trim().split('\n').pop() as string)
    listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean)

    app = join(tmp, 'app')
    const installed = join(app, 'node_modules', pkg.name)
    mkdirSync(installed, { recursive: true })
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
    for (const dep of Object.keys(pkg.dependencies)) {
      const target = join(app, 'node_modules', dep)
      mkdirSync(dirname(target), { recursive: true })
      symlinkSync(join(root, 'node_modules', dep), target, 'dir')
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'seam-package-check', private: true, type: 'module' }))
  }, TIMEOUT)

  afterAll(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
  })

  function run(script: string): { status: number | null; stdout: string; stderr: string } {
    const file = join(app, `script-${Math.random().toString(36).slice(2)}.js`)
    writeFileSync(file, script)
    // A clean NODE_OPTIONS: no loader of the test runner may help the script.
    const result = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } })
    return { status: result.status, stdout: result.stdout, stderr: result.stderr }
  }

  it('contains the compiled code and its type declarations, and no sources or tests', () => {
    expect(listing).toContain('package/package.json')
    expect(listing).toContain('package/dist/index.js')
    expect(listing).toContain('package/dist/index.d.ts')
    expect(listing).toContain('package/dist/transports/tcp/index.js')
    expect(listing).toContain('package/dist/transports/memory/index.js')
    expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false)
  })

  it('does a TCP request/response from plain Node ESM', () => {
    const { status, stdout, stderr } = run(`
import * as t from 'io-ts'
import { defineMessage, Registry, connect, listen } from 'seam-channel'

const Ping = defineMessage('pkg.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('pkg.Pong', t.type({ seq: t.number }))
const registry = new Registry()
registry.register(Pong)
registry.on(Ping, async (ping, ctx) => { await ctx.reply(Pong, { seq: ping.seq + 1 }) })
const server = await listen('tcp://127.0.0.1:0', { registry })
const client = await connect(server.url, { registry: new Registry(), connectTimeoutMs: 5000 })
const pong = await client.request(Ping, { seq: 41 }, { expect: Pong, timeoutMs: 5000 })
await client.close()
await server.close()
console.log('pong ' + pong.seq)
`)
    expect(stderr).toBe('')
    expect(stdout.trim()).toBe('pong 42')
    expect(status).toBe(0)
  })

  it('every subpath export imports', () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json')
    expect(subpaths).toEqual(expect.arrayContaining(['./tcp', './memory', './amqp', './kafka']))
    const names = subpaths.map((s) => `${pkg.name}${s.slice(1)}`)
    const { status, stdout, stderr } = run(`
const names = ${JSON.stringify(names)}
for (const name of names) {
  const mod = await import(name)
  console.log(name + ': ' + Object.keys(mod).sort().join(','))
}
const { MemoryHub } = await import('${pkg.name}/memory')
const { connectTcp, listenTcp } = await import('${pkg.name}/tcp')
console.log('ok ' + typeof MemoryHub + ' ' + typeof connectTcp + ' ' + typeof listenTcp)
`)
    expect(stderr).toBe('')
    expect(status).toBe(0)
    const lines = stdout.trim().split('\n')
    for (const name of names) expect(lines.some((l) => l.startsWith(`${name}: `) && l.length > name.length + 2)).toBe(true)
    expect(lines.at(-1)).toBe('ok function function function')
  })

  it('a deep import outside the exports map is refused', () => {
    const { status, stderr } = run(`await import('${pkg.name}/dist/channel/channel.js')`)
    expect(status).not.toBe(0)
    expect(stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/)
  })

  it('ships the declarations the exports map points at', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target !== 'object' || target === null) continue
      for (const file of Object.values(target as Record<string, string>)) {
        expect(listing, `${subpath} → ${file}`).toContain(`package/${file.replace(/^\.\//, '')}`)
      }
    }
    expect(readdirSync(join(app, 'node_modules', pkg.name, 'dist')).length).toBeGreaterThan(0)
  })
})
