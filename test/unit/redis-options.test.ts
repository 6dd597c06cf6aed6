import { describe, expect, it } from 'vitest'
import { readRedisOptions } from '../../src/transports/redis/options.js'
import { codeOf } from '../helpers.js'

const read = (url: string, redis?: object): ReturnType<typeof readRedisOptions> => readRedisOptions(new URL(url), redis === undefined ? {} : { redis }, 'listen(redis)')

describe('redis options', () => {
  it('reads host, port, stream, group and the query, with defaults for the rest', () => {
    const o = read('redis://10.0.0.5:6380/orders?group=billing&claimIdleMs=5000&maxLen=1000')
    expect(o).toMatchObject({ host: '10.0.0.5', port: 6380, stream: 'orders', group: 'billing', claimIdleMs: 5000, trim: { maxLen: 1000, exact: false }, maxDeliveries: 5, blockMs: 1000, db: 0, fromStart: false })
    expect(read('redis://127.0.0.1').port).toBe(6379)
    expect(read('redis://127.0.0.1').stream).toBeUndefined()
  })

  it('takes user and password from the URL, and never shows the password', () => {
    const o = read('redis://app:s%40cret@127.0.0.1:6379/orders')
    expect(o).toMatchObject({ username: 'app', password: 's@cret' })
    expect(o.where).not.toContain('cret')
  })

  it('an option given in code wins over the URL', () => {
    expect(read('redis://127.0.0.1/orders?group=a', { group: 'b', stream: 'other' })).toMatchObject({ group: 'b', stream: 'other' })
  })

  it('refuses a wrong URL with ERR_BAD_URL naming the part', () => {
    expect(codeOf(() => read('redis://127.0.0.1/a/b'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('redis://127.0.0.1/s?nope=1'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('redis://127.0.0.1/s?maxLen=-1'))).toBe('ERR_BAD_URL')
    expect(codeOf(() => read('redis://127.0.0.1/s?exactTrim=yes'))).toBe('ERR_BAD_URL')
    expect(() => read('redis://127.0.0.1/s?nope=1')).toThrow(/unknown query parameter "nope"/)
  })

  it('refuses a wrong option with ERR_BAD_ARGUMENT naming the option and the value', () => {
    expect(codeOf(() => read('redis://127.0.0.1/s', { claimIdleMs: 0 }))).toBe('ERR_BAD_ARGUMENT')
    expect(() => read('redis://127.0.0.1/s', { maxDeliveries: 1.5 })).toThrow(/redis\.maxDeliveries.*1\.5/)
    expect(() => read('redis://127.0.0.1/s', { group: '' })).toThrow(/redis\.group/)
  })
})
