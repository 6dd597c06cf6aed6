import { SeamError } from './errors.js'

/** Parses a channel URL; throws `ERR_BAD_URL` saying what is wrong. */
export function parseUrl(url: unknown): URL {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new SeamError('ERR_BAD_URL', `a channel URL must be a string like "tcp://127.0.0.1:7000" (got ${typeof url})`)
  }
  const text = String(url)
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new SeamError('ERR_BAD_URL', `"${text}" has no scheme: write it as scheme://…, e.g. tcp://127.0.0.1:7000`)
  }
  try {
    return new URL(withHostList(text))
  } catch (err) {
    throw new SeamError('ERR_BAD_URL', `"${text}" is not a valid URL${authorityProblem(text)}`, { cause: err })
  }
}

/**
 * A list of hosts (`kafka://b1:9092,b2:9092/topic`) is no URL host: `new URL`
 * reads `9092,b2:9092` as a port. It travels percent-encoded as one opaque
 * host instead, which {@link hostList} splits again.
 */
function withHostList(text: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(text)
  if (m === null) return text
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string]
  const at = authority.lastIndexOf('@')
  const hosts = authority.slice(at + 1)
  if (!hosts.includes(',')) return text
  return `${scheme}${authority.slice(0, at + 1)}${encodeURIComponent(hosts)}${rest}`
}

/**
 * The hosts of a URL, `host:port` each: one, or the comma-separated list of
 * a broker URL. Throws `ERR_BAD_URL` naming a host without a valid port.
 */
export function hostList(url: URL, defaultPort: number): { host: string; port: number }[] {
  const scheme = url.protocol.slice(0, -1)
  const raw = decodeURIComponent(url.host)
  if (raw === '') throw new SeamError('ERR_BAD_URL', `${scheme}://…: the host is missing (${scheme}://host:port, or a list host1:port,host2:port)`)
  return raw.split(',').map((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim())
    const port = m?.[2] === undefined ? defaultPort : Number(m[2])
    if (m === null || !(port > 0 && port <= 65535)) throw new SeamError('ERR_BAD_URL', `${scheme}://${raw}: "${entry}" is not host:port`)
    const host = (m[1] as string).replace(/^\[|\]$/g, '')
    return { host, port }
  })
}

/** Names the part of a URL's host:port that `new URL` refused, so the error says what to fix. */
function authorityProblem(text: string): string {
  const authority = (text.split('://', 2)[1] ?? '').split(/[/?#]/, 1)[0] ?? ''
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
  if (hostPort.startsWith('[') && !hostPort.includes(']')) return ': the IPv6 host has no closing "]"'
  // A colon inside brackets belongs to an IPv6 host, not to a port.
  const colon = hostPort.endsWith(']') ? -1 : hostPort.lastIndexOf(':')
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon)
  const port = colon < 0 ? '' : hostPort.slice(colon + 1)
  if (host === '') return ': the host is missing (scheme://host:port)'
  if (port !== '' && !(/^\d+$/.test(port) && Number(port) <= 65535)) return `: the port "${port}" is not a number from 0 to 65535`
  return ''
}

/** The host and port of a host:port URL; throws `ERR_BAD_URL` naming the bad part. */
export function hostPort(url: URL, defaultPort?: number): { host: string; port: number } {
  const scheme = url.protocol.slice(0, -1)
  if (url.hostname === '') throw new SeamError('ERR_BAD_URL', `${url.href}: the host is missing (${scheme}://host:port)`)
  if (url.hostname.includes('%2C')) throw new SeamError('ERR_BAD_URL', `${scheme}://${decodeURIComponent(url.host)}: a ${scheme} URL names one host, not a list`)
  if (url.port === '' && defaultPort === undefined) throw new SeamError('ERR_BAD_URL', `${url.href}: the port is missing (${scheme}://host:port; port 0 picks a free one when listening)`)
  const port = url.port === '' ? (defaultPort as number) : Number(url.port)
  if (url.pathname !== '' && url.pathname !== '/') throw new SeamError('ERR_BAD_URL', `${url.href}: a ${scheme} URL has no path (got "${url.pathname}")`)
  // Silently ignoring these would let a user believe they took effect.
  if (url.username !== '' || url.password !== '') throw new SeamError('ERR_BAD_URL', `${scheme}://…: a ${scheme} URL takes no user or password; give credentials through options`)
  if (url.search !== '' || url.hash !== '') throw new SeamError('ERR_BAD_URL', `${url.origin}: a ${scheme} URL takes no query or fragment (got "${url.search}${url.hash}"); give settings through options`)
  // URL keeps brackets around IPv6 hosts; sockets want them bare.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { host, port }
}

/** `scheme://host:port`, with an IPv6 host in brackets: the inverse of {@link hostPort}. */
export function hostUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** How a query parameter of a transport URL reads: text, a whole number, `true`/`false`, or every value given. */
export type QueryKind = 'string' | 'number' | 'boolean' | 'strings'

/**
 * A URL's query as a transport's options: every parameter must be one of
 * `known`, read as its kind (the last value given wins, but a `strings`
 * parameter keeps them all), under its own name or the one `rename` gives.
 * @throws SeamError `ERR_BAD_URL` naming an unknown parameter (and the known ones) or a malformed value.
 */
export function queryOptions(url: URL, where: string, known: Readonly<Record<string, QueryKind>>, rename: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of new Set(url.searchParams.keys())) {
    const kind = known[name]
    if (kind === undefined) throw new SeamError('ERR_BAD_URL', `${where}: unknown query parameter "${name}" (known: ${Object.keys(known).join(', ')})`)
    const values = url.searchParams.getAll(name)
    const value = values[values.length - 1] as string
    const key = rename[name] ?? name
    if (kind === 'strings') out[key] = values
    else if (kind === 'string') out[key] = value
    else if (kind === 'number') {
      if (!/^\d+$/.test(value)) throw new SeamError('ERR_BAD_URL', `${where}: query parameter "${name}" must be a whole number (got "${value}")`)
      out[key] = Number(value)
    } else {
      if (value !== 'true' && value !== 'false') throw new SeamError('ERR_BAD_URL', `${where}: query parameter "${name}" must be true or false (got "${value}")`)
      out[key] = value === 'true'
    }
  }
  return out
}

/**
 * `part` of a URL (its path, a segment, a user name) decoded from
 * percent-encoding; bad encoding (`%E0`) is an `ERR_BAD_URL` naming `what`,
 * where `decodeURIComponent` would throw a bare URIError.
 */
export function decodeUrlPart(part: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(part)
  } catch (err) {
    throw new SeamError('ERR_BAD_URL', `${shown}: ${what} is not valid percent-encoding`, { cause: err })
  }
}
