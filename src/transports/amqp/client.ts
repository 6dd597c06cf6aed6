/**
 * The part of amqplib this transport uses, typed here rather than through
 * amqplib's own declarations: the peer range (0.10 to 2.x) spans versions that
 * ship different types, or none, and the API below is the same in all of them.
 * amqplib is imported only when an `amqp:`/`amqps:` URL is used.
 */
import { SeamError } from '../../channel/errors.js'

/** What amqplib's `connect` takes as its first argument. */
export interface ConnectParams {
  protocol: 'amqp' | 'amqps'
  hostname: string
  port: number
  username: string
  password: string
  vhost: string
  heartbeat: number
  frameMax?: number
}

/** Properties of a published or delivered message (AMQP basic properties). */
export interface MessageProperties {
  contentType?: string | undefined
  contentEncoding?: string | undefined
  headers?: Record<string, unknown> | undefined
  deliveryMode?: number | undefined
  correlationId?: string | undefined
  replyTo?: string | undefined
  messageId?: string | undefined
  timestamp?: number | undefined
  type?: string | undefined
  appId?: string | undefined
}

export interface PublishOptions extends MessageProperties {
  persistent?: boolean
  mandatory?: boolean
}

export interface Message {
  readonly content: Buffer
  readonly fields: { readonly deliveryTag: number; readonly redelivered: boolean; readonly exchange: string; readonly routingKey: string; readonly consumerTag?: string }
  readonly properties: MessageProperties
}

interface Events {
  on(event: 'close', listener: (err?: Error) => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'return', listener: (msg: Message) => void): this
  on(event: 'drain', listener: () => void): this
  on(event: 'blocked', listener: (reason: string) => void): this
  on(event: 'unblocked', listener: () => void): this
  once(event: 'drain', listener: () => void): this
  removeListener(event: string, listener: (...args: never[]) => void): this
}

export interface AmqpChannel extends Events {
  assertExchange(name: string, type: string, options: { durable: boolean; arguments?: Record<string, unknown> }): Promise<unknown>
  assertQueue(name: string, options: { durable: boolean; exclusive?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> }): Promise<{ queue: string }>
  /** Passive declare: rejects (and the broker closes the channel) when the queue does not exist. */
  checkQueue(name: string): Promise<unknown>
  bindQueue(queue: string, exchange: string, pattern: string, args?: Record<string, unknown>): Promise<unknown>
  prefetch(count: number): Promise<unknown>
  consume(queue: string, onMessage: (msg: Message | null) => void, options: { noAck: boolean; consumerTag?: string }): Promise<{ consumerTag: string }>
  cancel(consumerTag: string): Promise<unknown>
  ack(msg: Message): void
  nack(msg: Message, allUpTo: boolean, requeue: boolean): void
  /** ConfirmChannel: `callback` runs once the broker acked (null) or nacked (an error) the message. */
  publish(exchange: string, routingKey: string, content: Buffer, options: PublishOptions, callback?: (err: unknown) => void): boolean
  close(): Promise<void>
}

export interface AmqpConnection extends Events {
  createChannel(): Promise<AmqpChannel>
  createConfirmChannel(): Promise<AmqpChannel>
  close(): Promise<void>
  /** amqplib's inner connection; its `stream` is the socket, destroyed when a dead connection will not close politely. */
  readonly connection?: { readonly stream?: { destroy(err?: Error): void; cork(): void; uncork(): void; readonly destroyed?: boolean } }
}

export interface Amqplib {
  connect(params: ConnectParams, socketOptions: Record<string, unknown>): Promise<AmqpConnection>
}

let loaded: Promise<Amqplib> | undefined

/**
 * Imports amqplib once.
 * @throws SeamError `ERR_TRANSPORT` saying how to install it when it is missing.
 */
export function loadAmqplib(): Promise<Amqplib> {
  loaded ??= import('amqplib').then(
    (mod: unknown) => ((mod as { default?: Amqplib }).default ?? mod) as Amqplib,
    (err: unknown) => {
      loaded = undefined
      throw new SeamError('ERR_TRANSPORT', 'amqp:// needs the amqplib package, which is not installed: npm install amqplib', { cause: err, retriable: false })
    },
  )
  return loaded
}
