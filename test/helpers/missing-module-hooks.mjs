/**
 * Module-resolution hooks that make one package look uninstalled, for a child
 * process that checks what a user without it is told. Registered by
 * {@link withoutPackage} (missing-module.ts) with `{ data: { name } }`; every
 * other specifier resolves as usual.
 */
let missing = ''

export function initialize(data) {
  missing = data.name
}

/** Refuses the package (and its subpaths) the way Node refuses one that is not installed. */
export async function resolve(specifier, context, nextResolve) {
  if (specifier === missing || specifier.startsWith(`${missing}/`)) {
    const err = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL ?? 'the entry point'}`)
    err.code = 'ERR_MODULE_NOT_FOUND'
    throw err
  }
  return nextResolve(specifier, context)
}
