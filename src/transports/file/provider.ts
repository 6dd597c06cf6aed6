import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import { readFileOptions, type FileOptions } from './options.js'
import { FileReader } from './reader.js'
import { FileWriter } from './writer.js'

interface ProviderOptions {
  file?: FileOptions
}

/** The `file:` scheme: `connect` appends to the file, `listen` reads it. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'file',
  async connect(url, options) {
    return FileWriter.open(readFileOptions(url, options, 'connect'))
  },
  async listen(url, options) {
    const o = readFileOptions(url, options, 'listen')
    const reader = await FileReader.open(o)
    // The URL as given: listen(server.url) reads the same file the same way again.
    return singleLinkListener(url.href, reader)
  },
}
