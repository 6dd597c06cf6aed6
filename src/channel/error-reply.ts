import { EMPTY_BODY, ERROR_TAG, HEADER, type Envelope } from './envelope.js'
import { newId } from './id.js'
import { SeamError, isErrorCode } from './errors.js'

/**
 * The error reply telling a sender that `request` was rejected: tag
 * `$seam/error`, `corr` = the request's id, and the code and message in
 * headers, so any transport can carry it.
 */
export function errorReply(request: Envelope, error: SeamError, contentType: string): Envelope {
  const headers = { [HEADER.code]: error.code, [HEADER.message]: error.message, [HEADER.failedTag]: request.tag }
  return { tag: ERROR_TAG, id: newId(), ts: Date.now(), ct: contentType, corr: request.id, replyTo: undefined, key: undefined, headers, body: EMPTY_BODY }
}

/** The SeamError an error reply carries; `ERR_PROTOCOL` when its code is not one of ours. */
export function errorOfReply(reply: Envelope): SeamError {
  const code = reply.headers[HEADER.code]
  const tag = reply.headers[HEADER.failedTag] ?? 'a message'
  const text = reply.headers[HEADER.message] ?? 'no reason given'
  return isErrorCode(code)
    ? new SeamError(code, `the receiver rejected "${tag}": ${text}`, { tag, id: reply.corr })
    : new SeamError('ERR_PROTOCOL', `the receiver sent an error reply with an unknown code ${JSON.stringify(code)}: ${text}`, { tag, id: reply.corr })
}
