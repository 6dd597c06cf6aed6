import type * as t from 'io-ts'

/** The io-ts codecs whose `validate` returns its input itself whenever `is` accepts it. */
const LEAVES = new Set([
  'AnyType',
  'UnknownType',
  'NeverType',
  'NullType',
  'UndefinedType',
  'VoidType',
  'StringType',
  'NumberType',
  'BigIntType',
  'BooleanType',
  'LiteralType',
  'KeyofType',
  'UnknownArrayType',
  'UnknownRecordType',
  'AnyArrayType',
  'AnyDictionaryType',
  'ObjectType',
  'FunctionType',
])

/** The parts of io-ts's concrete codec classes this walk reads. */
interface Node {
  readonly _tag?: string
  readonly type?: unknown
  readonly types?: readonly unknown[]
  readonly props?: Readonly<Record<string, unknown>>
  readonly domain?: unknown
  readonly codomain?: unknown
}

const known = new WeakMap<object, boolean>()

/**
 * True when decoding with `codec` gives back the input itself whenever
 * `codec.is(input)` holds, so a value that passes `is` needs no `decode`.
 *
 * That is what skips io-ts's `validate` on the receive path: `is` allocates
 * nothing, while `validate` builds a context entry per property and array
 * element, about 8 % of a receiver's time on small messages. It holds for
 * the structural codecs built from io-ts's own primitives. It does not hold,
 * so the answer is false, for anything that transforms or strips: `exact` and
 * `strict` drop unknown keys, a record over a non-string domain drops keys,
 * and a codec built with `new t.Type` may return anything. An unknown
 * `_tag` is treated as transforming.
 */
export function decodesToItself(codec: t.Mixed): boolean {
  return known.get(codec) ?? walk(codec, new Set())
}

function walk(codec: unknown, visiting: Set<unknown>): boolean {
  if (typeof codec !== 'object' || codec === null) return false
  const cached = known.get(codec)
  if (cached !== undefined) return cached
  // A recursive codec meets itself again: assume yes there, and let its other parts decide.
  if (visiting.has(codec)) return true
  visiting.add(codec)
  const answer = judge(codec as Node, visiting)
  visiting.delete(codec)
  known.set(codec, answer)
  return answer
}

function judge(node: Node, visiting: Set<unknown>): boolean {
  const tag = node._tag
  if (tag === undefined) return false
  if (LEAVES.has(tag)) return true
  const all = (parts: readonly unknown[] | undefined): boolean => parts !== undefined && parts.every((part) => walk(part, visiting))
  switch (tag) {
    case 'InterfaceType':
    case 'PartialType':
      return node.props !== undefined && all(Object.values(node.props))
    case 'UnionType':
    case 'IntersectionType':
    case 'TupleType':
      return all(node.types)
    case 'ArrayType':
    case 'ReadonlyArrayType':
    case 'ReadonlyType':
    case 'RefinementType':
    case 'RecursiveType':
      return walk(node.type, visiting)
    case 'DictionaryType':
      return (node.domain as Node | undefined)?._tag === 'StringType' && walk(node.codomain, visiting)
    default:
      return false
  }
}
