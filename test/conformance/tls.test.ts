import { connect, listen } from '../../src/index.js'
import { testPkiForFile } from '../helpers/certs.js'
import { runConformance } from './suite.js'

// The whole suite runs with mutual TLS: the strictest setup is the one that must keep every promise.
const pki = testPkiForFile()

runConformance({
  name: 'tls',
  features: { reply: true, connected: true, persistent: false, orderingByKey: true, orderedWithoutKey: true, redelivery: false },
  async pair(serverOptions, clientOptions) {
    const server = await listen('tls://127.0.0.1:0', { ...serverOptions, tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true } })
    try {
      const client = await connect(server.url, { ...clientOptions, tls: { ca: pki.ca.cert, key: pki.alice.key, cert: pki.alice.cert } })
      return { server, client }
    } catch (err) {
      await server.close()
      throw err
    }
  },
  badUrls: ['tls://127.0.0.1', 'tls://:7443', 'tls://127.0.0.1:7443/path', 'tlsx://127.0.0.1:7443', 'tls://127.0.0.1:99999'],
})
