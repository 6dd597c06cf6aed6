import { describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../src/transports/index.js'
import { readRedisOptions } from '../../src/transports/redis/options.js'
import { codeOf } from '../helpers.js'

const read = (url: string, redis?: object): ReturnType<typeof readRedisOptions> => readRedisOptions(new URL(url), redis === undefined ? {} : { redis }, 'listen(redis)')
const readTls = (url: string, tls: unknown): ReturnType<typeof readRedisOptions> => readRedisOptions(new URL(url), { tls } as { tls?: object }, 'connect(rediss)')

// Not a real certificate: the option checks run before anything is parsed.
const NOT_PEM = 'not a PEM and no such file'

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

describe('rediss options', () => {
  it('rediss:// reads like redis:// plus the tls option; its where says rediss:// and never shows the password', () => {
    const o = readTls('rediss://app:s%40cret@127.0.0.1:6380/orders?group=billing', { servername: 'redis.internal' })
    expect(o).toMatchObject({ host: '127.0.0.1', port: 6380, stream: 'orders', group: 'billing', username: 'app', password: 's@cret' })
    expect(o.tls).toMatchObject({ servername: 'redis.internal', insecure: false, presentsCert: false })
    expect(o.where).toBe('rediss://127.0.0.1:6380/orders')
    expect(readTls('rediss://127.0.0.1/s', undefined).port).toBe(6379)
    // Without a tls option rediss:// still verifies, against the public roots.
    expect(readTls('rediss://127.0.0.1/s', undefined).tls).toMatchObject({ insecure: false })
  })

  it('redis:// stays plain: no TLS settings are made for it', () => {
    expect(read('redis://127.0.0.1/s').tls).toBeUndefined()
    expect(read('redis://127.0.0.1/s').where).toBe('redis://127.0.0.1/s')
  })

  it('a wrong URL names the rediss scheme', () => {
    expect(() => readTls('rediss://127.0.0.1/a/b', undefined)).toThrow(/^rediss:\/\/127\.0\.0\.1\/a\/b: the path names one stream \(rediss:/)
  })

  it('bad TLS options get ERR_BAD_ARGUMENT naming the option', () => {
    const cases: [unknown, RegExp][] = [
      ['yes', /connect\(rediss\): option "tls" must be an object/],
      [{ ca: 42 }, /option "tls\.ca" must be PEM text/],
      [{ ca: [] }, /option "tls\.ca" is an empty list/],
      [{ ca: NOT_PEM }, /option "tls\.ca": cannot read the file/],
      [{ insecureSkipVerify: 'yes' }, /option "tls\.insecureSkipVerify" must be true or false \(got "yes"\)/],
      [{ servername: '' }, /option "tls\.servername" must be a non-empty host name/],
      [{ cert: NOT_PEM }, /options "tls\.key" and "tls\.cert" go together/],
      [{ passphrase: 7 }, /option "tls\.passphrase" must be a string/],
      [{ requestCert: true }, /option "tls\.requestCert" is a server option/],
      [{ rejectUnauthorized: false }, /unknown option "tls\.rejectUnauthorized" \(known: .*insecureSkipVerify/],
    ]
    for (const [tls, message] of cases) {
      expect(codeOf(() => readTls('rediss://127.0.0.1/s', tls))).toBe('ERR_BAD_ARGUMENT')
      expect(() => readTls('rediss://127.0.0.1/s', tls)).toThrow(message)
    }
  })

  it('rediss: is registered, with the same provider as redis:', async () => {
    expect(Object.keys(TRANSPORTS)).toContain('rediss')
    expect(await TRANSPORTS.rediss?.()).toBe(await TRANSPORTS.redis?.())
  })
})
