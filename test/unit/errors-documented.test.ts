import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/index.js'

// Like fastify's test: every stable error code is documented in the README.
describe('error codes are documented', () => {
  const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url))

  it.each(Object.keys(ERROR_CODES))('README.md documents %s', (code) => {
    const readme = readFileSync(readmePath, 'utf8')
    expect(readme, `README.md does not mention ${code}`).toMatch(new RegExp(`\\b${code}\\b`))
  })
})
