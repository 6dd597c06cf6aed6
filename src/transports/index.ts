import type { TransportProvider } from '../channel/transport.js'

/**
 * The transports `connect` and `listen` know by URL scheme. Each is imported
 * only when its scheme is used, so a TCP user never loads a broker client.
 */
export const TRANSPORTS: Readonly<Record<string, () => Promise<TransportProvider>>> = {
  amqp: async () => (await import('./amqp/index.js')).provider,
  amqps: async () => (await import('./amqp/index.js')).provider,
  file: async () => (await import('./file/index.js')).provider,
  kafka: async () => (await import('./kafka/index.js')).provider,
  memory: async () => (await import('./memory/index.js')).provider,
  redis: async () => (await import('./redis/index.js')).provider,
  rediss: async () => (await import('./redis/index.js')).provider,
  sqs: async () => (await import('./sqs/index.js')).provider,
  stdio: async () => (await import('./stdio/index.js')).provider,
  tcp: async () => (await import('./tcp/index.js')).provider,
  tls: async () => (await import('./tls/index.js')).provider,
}
