import * as t from 'io-ts'
import { describe, expectTypeOf, it } from 'vitest'
import { defineMessage, Registry, type Channel, type HandlerContext, type MessageType, type TypeOf } from '../../src/index.js'

// Type-level tests: tsc (`npm test` runs it first) checks the expectations and
// the `@ts-expect-error` lines; the runtime part only builds values.
const Ping = defineMessage('demo.Ping', t.type({ seq: t.number }))
const Pong = defineMessage('demo.Pong', t.type({ seq: t.number }))
const DateMsg = defineMessage('demo.Date', t.type({ at: t.string }))

describe('types', () => {
  it('defineMessage keeps the literal tag and the codec types', () => {
    expectTypeOf(Ping).toEqualTypeOf<MessageType<'demo.Ping', { seq: number }, { seq: number }>>()
    expectTypeOf(Ping.tag).toEqualTypeOf<'demo.Ping'>()
    expectTypeOf<TypeOf<typeof Ping>>().toEqualTypeOf<{ seq: number }>()
    expectTypeOf<TypeOf<typeof DateMsg>>().toEqualTypeOf<{ at: string }>()
    expectTypeOf<TypeOf<typeof Ping>>().not.toBeAny()
    expectTypeOf<TypeOf<string>>().toBeNever()
  })

  it('a handler gets the decoded type and a context', () => {
    const r = new Registry()
    r.on(Ping, (value, ctx) => {
      expectTypeOf(value).toEqualTypeOf<{ seq: number }>()
      expectTypeOf(value).not.toBeAny()
      expectTypeOf(ctx).toEqualTypeOf<HandlerContext>()
    })
    r.on(Pong, async (value, ctx) => {
      expectTypeOf(value.seq).toBeNumber()
      await ctx.reply(Ping, { seq: value.seq })
      // @ts-expect-error the reply value must match its type
      await ctx.reply(Ping, { seq: 'x' })
    })
    // Only type-checked: a second handler for Ping would throw at run time.
    const wrong = (other: Registry): void => {
      // @ts-expect-error a handler cannot claim another value type
      other.on(Ping, (value: { seq: string }) => void value)
    }
    expectTypeOf(wrong).toBeFunction()
  })

  it('send and request are typed by the message type', () => {
    // Only type-checked: never called.
    const typed = async (channel: Channel): Promise<void> => {
      await channel.send(Ping, { seq: 1 })
      // @ts-expect-error seq must be a number
      await channel.send(Ping, { seq: 'x' })
      // @ts-expect-error seq is required
      await channel.send(Ping, {})
      const pong = await channel.request(Ping, { seq: 2 }, { expect: Pong })
      expectTypeOf(pong).toEqualTypeOf<{ seq: number }>()
      expectTypeOf(pong).not.toBeAny()
      const date = await channel.request(Ping, { seq: 3 }, { expect: DateMsg, timeoutMs: 10 })
      expectTypeOf(date).toEqualTypeOf<{ at: string }>()
      // @ts-expect-error expect is required
      await channel.request(Ping, { seq: 4 }, {})
      // @ts-expect-error the request value is checked too
      await channel.request(Ping, { seq: '4' }, { expect: Pong })
      channel.on(Ping, (value) => {
        expectTypeOf(value).toEqualTypeOf<{ seq: number }>()
      })
    }
    expectTypeOf(typed).returns.resolves.toBeVoid()
  })

  it('codecs with a different encoded type keep A and O apart', () => {
    const NumberFromString = new t.Type<number, string, unknown>(
      'NumberFromString',
      (u): u is number => typeof u === 'number',
      (u, c) => (typeof u === 'string' && u !== '' && !Number.isNaN(Number(u)) ? t.success(Number(u)) : t.failure(u, c)),
      String,
    )
    const Amount = defineMessage('demo.Amount', t.type({ n: NumberFromString }))
    expectTypeOf(Amount).toEqualTypeOf<MessageType<'demo.Amount', { n: number }, { n: string }>>()
    expectTypeOf<TypeOf<typeof Amount>>().toEqualTypeOf<{ n: number }>()
  })
})
