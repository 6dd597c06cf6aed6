import { SeamError } from '../../channel/errors.js'

/** The shape of what the SDK throws: its service errors name SQS's code; a socket error has a Node code. */
interface SdkError {
  name?: string
  code?: string
  message?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
}

const MISSING_QUEUE = /QueueDoesNotExist|NonExistentQueue/
const REFUSED_ACCESS = /AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|InvalidSecurity/
// Worth trying again: throttling, SQS's own failures, and sockets.
const TRANSIENT = /Throttl|RequestThrottled|OverLimit|ServiceUnavailable|InternalError|InternalFailure|KmsThrottled|TimeoutError|RequestTimeout/

/** SQS's error code (e.g. `QueueDoesNotExist`) or the socket's (e.g. `ECONNREFUSED`). */
export function sdkCode(err: unknown): string {
  const e = err as SdkError | undefined
  return e?.code ?? e?.name ?? 'Error'
}

/** Whether trying the same call again may succeed. */
export function isTransient(err: unknown): boolean {
  const e = err as SdkError | undefined
  const code = sdkCode(err)
  if (MISSING_QUEUE.test(code) || REFUSED_ACCESS.test(code)) return false
  if (TRANSIENT.test(code) || e?.$fault === 'server' || /^E[A-Z]+/.test(e?.code ?? '')) return true
  // A service error that is the caller's fault fails again; anything else (a socket, an abort) may not.
  return e?.$fault !== 'client'
}

/**
 * Turns what the SDK throws into a SeamError saying what to do: a missing
 * queue names the queue, refused credentials say so, and an endpoint that
 * does not answer says where it was looked for.
 */
export function sqsError(err: unknown, doing: string, endpoint: string): SeamError {
  if (err instanceof SeamError) return err
  const code = sdkCode(err)
  const why = (err as SdkError | undefined)?.message ?? String(err)
  const fail = (message: string, retriable: boolean): SeamError => new SeamError('ERR_TRANSPORT', `${doing}: ${message}`, { cause: err, retriable })
  if (MISSING_QUEUE.test(code)) return fail(`the queue does not exist at ${endpoint} (${code}); create it first (this transport never creates queues)`, false)
  if (REFUSED_ACCESS.test(code)) return fail(`SQS at ${endpoint} refused the credentials (${code}: ${why}); check sqs.credentials or the SDK's credential chain`, false)
  if (/^E[A-Z]+/.test((err as SdkError | undefined)?.code ?? '') || code === 'TimeoutError') return fail(`cannot reach SQS at ${endpoint} (${code}: ${why}): is it running, and is the address right?`, true)
  return fail(`${code}: ${why}`, isTransient(err))
}
