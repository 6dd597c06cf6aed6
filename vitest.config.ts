import { defineConfig } from 'vitest/config'

// CI runs the AMQP tests again against the oldest amqplib the peer range admits, installed elsewhere (see .ci/run).
const amqplib = process.env.SEAM_TEST_AMQPLIB

export default defineConfig({
  resolve: amqplib === undefined ? {} : { alias: { amqplib } },
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that stop a shared server (RabbitMQ) run alone, afterwards: see vitest.serial.config.ts.
    exclude: ['**/node_modules/**', 'test/**/*.serial.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Sockets and timers per test file: forks keep one file's leftovers from reaching another.
    pool: 'forks',
    // Memory tests (allocation bombs, the in-flight window, the fuzzer) collect garbage before they measure.
    execArgv: ['--expose-gc'],
    // Two files at once even on two cores: the longest (the in-flight window, ~2 min) mostly waits on its 5 ms handler.
    maxWorkers: 2,
  },
})
