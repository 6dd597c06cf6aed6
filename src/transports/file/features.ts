import type { TransportFeatures } from '../../channel/transport.js'

/**
 * What a message file promises: records are read in the order written and
 * stay on disk, so a reader started again reads them again. No replies: a
 * reader has no way back to the writer. No redelivery: a rejected record
 * stays where it is in the file and the reader moves on.
 */
export const FILE_FEATURES: TransportFeatures = Object.freeze({ reply: false, connected: false, persistent: true, orderingByKey: true, orderedWithoutKey: true, redelivery: false })
