import { defineConfig, mergeConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * Tests that stop and start a server every other test file shares (e.g.
 * RabbitMQ's restart test): run after the others, one file at a time, so no
 * other test sees the server go away under it.
 */
export default mergeConfig(base, defineConfig({ test: { include: ['test/**/*.serial.test.ts'], exclude: ['**/node_modules/**'], maxWorkers: 1, fileParallelism: false } }))
