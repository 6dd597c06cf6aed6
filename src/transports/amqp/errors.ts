import { SeamError } from '../../channel/errors.js'
import type { AmqpTarget } from './options.js'

/** amqplib puts the broker's reply code on its errors; sockets put a Node code. */
interface AmqpFailure {
  readonly code?: unknown
  readonly message?: unknown
}

function text(err: unknown): string {
  return String((err as AmqpFailure | undefined)?.message ?? err)
}

/**
 * The broker's complaint about a declaration, naming the queue or exchange and
 * the argument, e.g. `inequivalent arg 'x-queue-type' for queue 'billing'`.
 */
function precondition(why: string): string {
  const m = /inequivalent arg '([^']+)' for (queue|exchange) '([^']+)'[^:]*:\s*(.*)$/i.exec(why)
  if (m === null) return why
  return `the ${m[2]} "${m[3]}" exists with another "${m[1]}" (${m[4]?.replace(/"$/, '')}); declare it with the same arguments, or delete it and let it be declared again`
}

/**
 * Turns what amqplib throws into a SeamError saying what to do. Refusals that
 * retrying cannot fix (credentials, vhost, a conflicting declaration, a
 * missing queue) are `retriable: false`, so nothing loops on them.
 */
export function amqpError(err: unknown, target: AmqpTarget, doing: string): SeamError {
  if (err instanceof SeamError) return err
  const why = text(err)
  const code = (err as AmqpFailure | undefined)?.code
  const at = `${target.hostname}:${target.port}`
  const fail = (message: string, retriable: boolean): SeamError => new SeamError('ERR_TRANSPORT', `${doing}: ${message}`, { cause: err, retriable })
  if (/ACCESS[_-]REFUSED|\b403\b/.test(why)) {
    return fail(`RabbitMQ at ${at} refused access for user "${target.username}" on vhost "${target.vhost}" (access refused): check the user name, password and permissions`, false)
  }
  // amqplib reports the broker's refusal of connection.open (no such vhost, or no access to it) without the broker's text.
  if ((/NOT[_-]ALLOWED|\b530\b/.test(why) && /vhost/i.test(why)) || /ConnectionOpenOk; got <ConnectionClose/.test(why)) {
    return fail(`the vhost "${target.vhost}" does not exist on RabbitMQ at ${at}, or user "${target.username}" may not use it (${why})`, false)
  }
  if (/PRECONDITION[_-]FAILED|\b406\b/.test(why)) return fail(precondition(why), false)
  if (/NOT[_-]FOUND|\b404\b/.test(why)) return fail(`${why}: declare it first, or let this channel declare it`, false)
  // amqps: the server's certificate was refused; dialing again gets the same certificate.
  if (typeof code === 'string' && /CERT|SELF_SIGNED|ISSUER|LEAF_SIGNATURE|INVALID_CA/.test(code)) {
    return fail(`the TLS handshake with RabbitMQ at ${at} failed over the server's certificate (${code}: ${why}); set tls.ca to the CA that signed it, or tls.servername to a name it lists`, false)
  }
  // amqplib's own timer while opening: an Error without a code.
  if (code === undefined && /connect ETIMEDOUT/.test(why)) return fail(`no answer from RabbitMQ at ${at} within connectTimeoutMs`, true)
  if (typeof code === 'string' && /^E[A-Z]+/.test(code)) {
    return fail(`cannot reach RabbitMQ at ${at} (${code}): is it running, and is the address right?`, true)
  }
  return fail(why, true)
}
