import { describe, expect, it } from 'vitest'
import { readSqsOptions } from '../../src/transports/sqs/options.js'
import { codeOf } from '../helpers.js'

const read = (url: string, sqs?: object, extra: object = {}): ReturnType<typeof readSqsOptions> => readSqsOptions(new URL(url), { sqs, ...extra } as never, 'test')

describe('sqs options', () => {
  it('sqs://host:port/account/queue is a local endpoint over plain HTTP, with dummy credentials and us-east-1', () => {
    const o = read('sqs://127.0.0.1:4566/000000000000/orders')
    expect(o).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', queue: { name: 'orders', account: '000000000000' }, waitTimeSeconds: 20, maxBatch: 10 })
    expect(o.credentials?.accessKeyId).toBeTypeOf('string')
  })

  it('an amazonaws.com host is AWS over https, its region taken from the host, credentials from the SDK chain', () => {
    const o = read('sqs://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo')
    expect(o).toMatchObject({ endpoint: 'https://sqs.eu-west-1.amazonaws.com', region: 'eu-west-1', credentials: undefined, queue: { name: 'orders.fifo', account: '123456789012' } })
  })

  it('no host: AWS\'s endpoint for the region; a full queue URL as the queue option', () => {
    expect(read('sqs:///orders?region=ap-south-1')).toMatchObject({ endpoint: undefined, region: 'ap-south-1', queue: { name: 'orders', account: undefined } })
    const o = read('sqs://', { queue: 'https://sqs.us-west-2.amazonaws.com/123456789012/jobs' })
    expect(o).toMatchObject({ endpoint: undefined, region: 'us-west-2', queue: { url: 'https://sqs.us-west-2.amazonaws.com/123456789012/jobs' }, credentials: undefined })
  })

  it('the query and the sqs option set the typed options; the option wins', () => {
    const o = read('sqs://127.0.0.1:4566/q?waitTimeSeconds=2&visibilityTimeout=5&pollers=3&maxBatch=4&replyQueue=r', { pollers: 6 })
    expect(o).toMatchObject({ waitTimeSeconds: 2, visibilityTimeout: 5, pollers: 6, maxBatch: 4, replyQueue: { name: 'r', account: undefined } })
  })

  it('refuses what is wrong, naming it', () => {
    expect(codeOf(() => read('sqs://127.0.0.1:4566/q?nope=1'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/a/b/c'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/bad%20name'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('sqs://u:p@127.0.0.1:4566/q'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/q', { waitTimeSeconds: 21 }))).toBe('ERR_BAD_ARGUMENT')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/q', { maxBatch: 11 }))).toBe('ERR_BAD_ARGUMENT')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/q', { credentials: { accessKeyId: 1 } }))).toBe('ERR_BAD_ARGUMENT')
    expect(codeOf(() => read('sqs://127.0.0.1:4566/q', { endpoint: 'ftp://x' }))).toBe('ERR_BAD_ARGUMENT')
  })
})
