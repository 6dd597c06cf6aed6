import { describe, expect, it } from 'vitest'
import { ERROR_CODES, SeamError, isSeamError } from '../../src/index.js'
import { isErrorCode, toSeamError } from '../../src/channel/errors.js'

describe('SeamError', () => {
  it('carries code, message, tag, id and is an Error', () => {
    const err = new SeamError('ERR_INVALID_PAYLOAD', 'bad', { tag: 'a.B', id: '1' })
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('SeamError')
    expect(err.code).toBe('ERR_INVALID_PAYLOAD')
    expect(err.message).toBe('bad')
    expect(err.tag).toBe('a.B')
    expect(err.id).toBe('1')
    expect(err.cause).toBeUndefined()
  })

  it('takes retriable from the code, overridable', () => {
    expect(new SeamError('ERR_TIMEOUT', 'x').retriable).toBe(true)
    expect(new SeamError('ERR_TRANSPORT', 'x').retriable).toBe(true)
    expect(new SeamError('ERR_OUTBOX_FULL', 'x').retriable).toBe(true)
    expect(new SeamError('ERR_INVALID_PAYLOAD', 'x').retriable).toBe(false)
    expect(new SeamError('ERR_CLOSED', 'x').retriable).toBe(false)
    expect(new SeamError('ERR_TRANSPORT', 'x', { retriable: false }).retriable).toBe(false)
    for (const [code, retriable] of Object.entries(ERROR_CODES)) {
      expect(new SeamError(code as keyof typeof ERROR_CODES, 'x').retriable).toBe(retriable)
    }
  })

  it('passes the cause through', () => {
    const cause = new Error('root')
    const err = new SeamError('ERR_TRANSPORT', 'wrapped', { cause })
    expect(err.cause).toBe(cause)
  })

  it('toSeamError keeps SeamErrors and wraps the rest with their message and cause', () => {
    const own = new SeamError('ERR_CLOSED', 'closed')
    expect(toSeamError(own, 'ERR_TRANSPORT', 'x')).toBe(own)
    const cause = new Error('ECONNREFUSED')
    const wrapped = toSeamError(cause, 'ERR_TRANSPORT', 'cannot connect')
    expect(wrapped.code).toBe('ERR_TRANSPORT')
    expect(wrapped.message).toBe('cannot connect: ECONNREFUSED')
    expect(wrapped.cause).toBe(cause)
    expect(toSeamError('text', 'ERR_PROTOCOL', 'bad').message).toBe('bad: text')
  })

  it('isSeamError narrows by code; isErrorCode knows only real codes', () => {
    const err = new SeamError('ERR_TIMEOUT', 'x')
    expect(isSeamError(err)).toBe(true)
    expect(isSeamError(err, 'ERR_TIMEOUT')).toBe(true)
    expect(isSeamError(err, 'ERR_CLOSED')).toBe(false)
    expect(isSeamError(new Error('x'))).toBe(false)
    expect(isErrorCode('ERR_TIMEOUT')).toBe(true)
    expect(isErrorCode('toString')).toBe(false)
    expect(isErrorCode('__proto__')).toBe(false)
    expect(isErrorCode(undefined)).toBe(false)
  })
})
