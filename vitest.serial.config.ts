import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * Tests that stop and start a server every other test file shares (e.g.
 * RabbitMQ's restart test): run after the others, one file at a time, so no
 * other test sees the server go away under it. Built from the base config's
 * settings rather than merged with it: a merge would keep its exclude of
 * these very files.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { ...base.test, include: ['test/**/*.serial.test.ts'], exclude: ['**/node_modules/**'], maxWorkers: 1, fileParallelism: false },
})
