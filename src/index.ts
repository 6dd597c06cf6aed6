/**
 * seam-channel: typed messages between machines, routed by stable string
 * tags, over interchangeable transports chosen by URL.
 *
 * This file is the whole public surface of the main entry; each transport
 * also has its own subpath (`seam-channel/tcp`, `seam-channel/memory`, `seam-channel/amqp`, `seam-channel/kafka`).
 * @module
 */
export { defineMessage, type MessageType, type TypeOf, type AnyMessageType } from './registry/message-type.js'
export {
  Registry,
  type Handler,
  type RegistryOptions,
  type RegistryStats,
  type RegistryEvents,
  type Outcome,
  type PolicyOutcome,
  type DeadLetterSink,
  type DeadLetterTarget,
  type Decoded,
} from './registry/registry.js'
export type { HandlerContext } from './registry/context.js'
export { DEFAULT_POLICIES, type Policies, type PolicyAction, type PolicyCase, type PolicyFunction, type RetryOptions } from './registry/policies.js'

export { Channel, type ChannelEvents } from './channel/channel.js'
export { Server, type ServerEvents } from './channel/server.js'
export { connect, listen } from './channel/connect.js'
export { bridge, Bridge, type BridgeEvents } from './channel/bridge.js'
export type { BridgeOptions, BridgeEndOptions } from './channel/bridge-options.js'
export type { BridgeStats } from './channel/bridge-source.js'
export type { ChannelOptions, ConnectOptions, ListenOptions, SendOptions, RequestOptions, Authorize, TransportOptions } from './channel/options.js'
export { type Envelope, ERROR_TAG, MAX_TAG_BYTES } from './channel/envelope.js'
export { SeamError, ERROR_CODES, isSeamError, type SeamErrorCode, type SeamErrorDetails } from './channel/errors.js'
export type { PeerInfo } from './channel/peer.js'
export type { TransportProvider, TransportLink, TransportListener, TransportFeatures, Delivery, NackOptions, LinkSink, RouteOptions, BrokenEnvelope } from './channel/transport.js'
export { Events } from './channel/events.js'

export { type Serde, msgpack, json, createMsgpack, SerdeSet, MSGPACK, JSON_CT } from './serde/index.js'

// Type-only exports: they load each transport's option types (declaration merging) and no code.
export type { StreamOptions } from './transports/stream/options.js'
export type { MemoryOptions } from './transports/memory/index.js'
export type { TlsOptions, Pem } from './transports/tls/options.js'
export type { AmqpOptions } from './transports/amqp/options.js'
export type { KafkaOptions } from './transports/kafka/options.js'
export type { SqsOptions } from './transports/sqs/options.js'
export type { StdioOptions, StdioFormat } from './transports/stdio/options.js'
export type { RedisOptions } from './transports/redis/options.js'
export { MemoryHub, type MemoryQueueOptions } from './transports/memory/hub.js'
