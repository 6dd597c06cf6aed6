/**
 * A body's bytes as a Buffer, which client libraries (amqplib, kafkajs,
 * ioredis, the AWS SDK) take: the msgpack serde's bodies are Buffers already
 * and pass as they are; another serde's Uint8Array gets a view, no copy.
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
