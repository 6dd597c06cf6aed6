import * as t from 'io-ts'
import { defineMessage } from '../../src/index.js'

/** What the client sends; the server answers with {@link Echoed}. */
export const Echo = defineMessage('example.tls.Echo', t.type({ text: t.string }))
/** The server's answer, with the identity it saw. */
export const Echoed = defineMessage('example.tls.Echoed', t.type({ text: t.string, you: t.string }))
/** Only peers named in the server's allow-list may send it (see `authorize` in server.ts). */
export const Shutdown = defineMessage('example.tls.Shutdown', t.type({}))
