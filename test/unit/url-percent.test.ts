/**
 * A URL whose path or user is not valid percent-encoding is refused with
 * ERR_BAD_URL before anything connects, by every transport that decodes it
 * (decodeUrlPart in src/channel/url.ts): never a bare URIError.
 */
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/index.js'
import { rejection } from '../helpers.js'

describe('URLs with bad percent-encoding', () => {
  for (const url of ['redis://127.0.0.1:6379/%E0', 'redis://%E0:pw@127.0.0.1:6379/s', 'kafka://127.0.0.1:9092/%E0', 'amqp://127.0.0.1/%E0', 'file:///tmp/%E0', 'sqs://127.0.0.1:1/000000000000/%E0']) {
    it(`${url} is ERR_BAD_URL naming the part`, async () => {
      const err = await rejection(connect(url, { connectTimeoutMs: 200 }))
      expect(err).toMatchObject({ code: 'ERR_BAD_URL' })
      expect((err as Error).message).toMatch(/is not valid percent-encoding/)
    })
  }
})
