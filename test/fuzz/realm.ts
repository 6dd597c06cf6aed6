/**
 * Prototype pollution checks, run in the server's own realm (the server
 * lives in the test process). A snapshot records every own property of the
 * built-in prototypes and constructors a decoder could reach through
 * `__proto__`, `constructor` or `prototype` keys, with its descriptor; the
 * comparison lists anything added, removed or replaced.
 */

const WATCHED: Record<string, object> = {
  'Object.prototype': Object.prototype,
  'Array.prototype': Array.prototype,
  'Function.prototype': Function.prototype,
  'String.prototype': String.prototype,
  'Number.prototype': Number.prototype,
  'Boolean.prototype': Boolean.prototype,
  'Symbol.prototype': Symbol.prototype,
  'Error.prototype': Error.prototype,
  'Promise.prototype': Promise.prototype,
  'Map.prototype': Map.prototype,
  'Set.prototype': Set.prototype,
  'Date.prototype': Date.prototype,
  'RegExp.prototype': RegExp.prototype,
  'Uint8Array.prototype': Uint8Array.prototype,
  'Buffer.prototype': Buffer.prototype,
  Object,
  Array,
  JSON,
}

/** Property key → descriptor, per watched object, plus each object's own prototype. */
export type RealmSnapshot = Map<string, { proto: object | null; props: Map<PropertyKey, PropertyDescriptor> }>

export function snapshotRealm(): RealmSnapshot {
  const out: RealmSnapshot = new Map()
  for (const [name, o] of Object.entries(WATCHED)) {
    const props = new Map<PropertyKey, PropertyDescriptor>()
    for (const key of Reflect.ownKeys(o)) props.set(key, Object.getOwnPropertyDescriptor(o, key) as PropertyDescriptor)
    out.set(name, { proto: Object.getPrototypeOf(o) as object | null, props })
  }
  return out
}

function sameDescriptor(a: PropertyDescriptor, b: PropertyDescriptor): boolean {
  return a.value === b.value && a.get === b.get && a.set === b.set && a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable
}

/** Everything that differs from `before`, one sentence each; empty when the realm is untouched. */
export function realmChanges(before: RealmSnapshot): string[] {
  const changes: string[] = []
  const now = snapshotRealm()
  for (const [name, was] of before) {
    const is = now.get(name)
    if (is === undefined) continue
    if (is.proto !== was.proto) changes.push(`${name}'s prototype was replaced`)
    for (const [key, d] of is.props) {
      const old = was.props.get(key)
      if (old === undefined) changes.push(`${name}.${String(key)} was added`)
      else if (!sameDescriptor(old, d)) changes.push(`${name}.${String(key)} was changed`)
    }
    for (const key of was.props.keys()) if (!is.props.has(key)) changes.push(`${name}.${String(key)} was removed`)
  }
  return changes
}

/** Plain objects and arrays still behave as built: the symptoms a polluted prototype shows first. */
export function sanityProblems(): string[] {
  const o = {} as Record<string, unknown>
  const a = [] as unknown as Record<string, unknown>
  const problems: string[] = []
  if (o.polluted !== undefined || 'polluted' in o) problems.push('({}).polluted is set')
  if (a.polluted !== undefined) problems.push('[].polluted is set')
  if (o.constructor !== Object) problems.push('({}).constructor is not Object')
  if ([].constructor !== Array) problems.push('[].constructor is not Array')
  if (Object.getPrototypeOf(o) !== Object.prototype) problems.push("{}'s prototype is not Object.prototype")
  if (Object.getPrototypeOf(Object.prototype) !== null) problems.push("Object.prototype's prototype is not null")
  if (String(o) !== '[object Object]') problems.push('String({}) is not "[object Object]"')
  if (JSON.stringify({ a: 1 }) !== '{"a":1}') problems.push('JSON.stringify is broken')
  for (const key in o) problems.push(`({}) has an enumerable inherited key "${key}"`)
  return problems
}
