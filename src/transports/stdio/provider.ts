import { SeamError } from '../../channel/errors.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import { StdioLink } from './link.js'
import { readStdioOptions, type StdioOptions } from './options.js'

/** The `stdio:` scheme: `connect` writes standard output, `listen` reads standard input. */
export const provider: TransportProvider<{ stdio?: StdioOptions }> = {
  scheme: 'stdio',
  async connect(url, options) {
    const o = readStdioOptions(url, options, 'connect(stdio)')
    if (o.format === 'frames' && (o.output as { isTTY?: boolean }).isTTY === true) {
      throw new SeamError('ERR_BAD_ARGUMENT', 'connect(stdio): standard output is a terminal, and frames are binary; pipe it into another program (producer | consumer), or use stdio://?format=json to read the messages')
    }
    return StdioLink.producer(o)
  },
  async listen(url, options) {
    const o = readStdioOptions(url, options, 'listen(stdio)')
    // Run without a pipe, a frames listener would wait for bytes no one can type.
    if (o.format === 'frames' && (o.input as { isTTY?: boolean }).isTTY === true) {
      throw new SeamError('ERR_BAD_ARGUMENT', 'listen(stdio): standard input is a terminal, and frames are binary; pipe a producer into this program (producer | consumer), or use stdio://?format=json to type JSON lines')
    }
    return singleLinkListener(o.where, StdioLink.consumer(o))
  },
}
