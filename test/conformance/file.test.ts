import { connect, listen } from '../../src/index.js'
import { tempFiles } from '../helpers/file.js'
import { runConformance } from './suite.js'

const files = tempFiles()

runConformance({
  name: 'file',
  // One reader reads the file in order; a file goes one way, and a rejected record stays where it is.
  features: { reply: false, connected: false, persistent: true, orderingByKey: true, orderedWithoutKey: true, redelivery: false },
  async pair(serverOptions, clientOptions) {
    const { url } = await files.fresh()
    // The writer first: it creates the file the reader opens.
    const client = await connect(url, clientOptions)
    const server = await listen(`${url}?follow=true&pollMs=20`, serverOptions)
    return { server, client }
  },
  badUrls: ['file://host/x.seam', 'file:///', 'file:///tmp/dir/', 'file:///tmp/x.seam?nope=1', 'file:///tmp/x.seam?follow=maybe', 'file:///tmp/x.seam#frag', 'file://user@/tmp/x.seam'],
})
