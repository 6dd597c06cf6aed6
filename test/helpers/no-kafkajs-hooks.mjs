/**
 * Module-resolution hooks that make `kafkajs` look uninstalled, for a child
 * process that checks what a user without it is told. Register them with
 * `module.register(<this file's URL>)` (e.g. from a `--import data:` URL);
 * every other specifier resolves as usual.
 */

/** Refuses `kafkajs` (and its subpaths) the way Node refuses a package that is not installed. */
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'kafkajs' || specifier.startsWith('kafkajs/')) {
    const err = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL ?? 'the entry point'}`)
    err.code = 'ERR_MODULE_NOT_FOUND'
    throw err
  }
  return nextResolve(specifier, context)
}
