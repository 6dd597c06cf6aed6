export { defineMessage, type MessageType, type TypeOf, type AnyMessageType } from './message-type.js'
export {
  Registry,
  type Handler,
  type RegistryOptions,
  type RegistryStats,
  type RegistryEvents,
  type Outcome,
  type PolicyOutcome,
  type DeadLetterSink,
  type DeadLetterTarget,
  type Decoded,
} from './registry.js'
export type { HandlerContext, DispatchSource } from './context.js'
export { DEFAULT_POLICIES, CASE_CODE, type Policies, type PolicyAction, type PolicyCase, type PolicyFunction, type RetryOptions } from './policies.js'
export { describeErrors } from './report.js'
