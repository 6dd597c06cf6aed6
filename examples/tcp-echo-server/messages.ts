/**
 * The message types both sides of the echo example agree on. Share a file
 * like this (or a package) between services: the tags are the contract, so
 * never change one once messages are in flight.
 */
import * as t from 'io-ts'
import { defineMessage } from '../../src/index.js'

/** Where the server listens unless told otherwise (argv[2] or SEAM_ECHO_URL). */
export const DEFAULT_URL = 'tcp://127.0.0.1:7000'

/** Fire-and-forget: the server prints it. */
export const Note = defineMessage('echo.Note', t.type({ from: t.string, text: t.string }))

/** A request; the server answers with an {@link Echoed}. */
export const Echo = defineMessage('echo.Echo', t.type({ seq: t.number, text: t.string }))

/** The reply to an {@link Echo}: the same text, and when the server saw it. */
export const Echoed = defineMessage('echo.Echoed', t.type({ seq: t.number, text: t.string, at: t.string }))

/** A type the server never registered: sending it shows the `reject` policy. */
export const Unknown = defineMessage('echo.Unknown', t.type({ anything: t.string }))

/** The URL from the command line, else SEAM_ECHO_URL, else a bare port in SEAM_ECHO_PORT, else the default. */
export function echoUrl(argv: readonly string[] = process.argv.slice(2)): string {
  const arg = argv[0] ?? process.env.SEAM_ECHO_URL
  if (arg !== undefined && arg !== '') return /^\d+$/.test(arg) ? `tcp://127.0.0.1:${arg}` : arg
  const port = process.env.SEAM_ECHO_PORT
  return port !== undefined && port !== '' ? `tcp://127.0.0.1:${port}` : DEFAULT_URL
}
