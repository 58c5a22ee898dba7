/**
 * The typed answer of every rule in libs/policy (STYLE.md rule 1): either the
 * action is allowed, with whatever the rule computed, or it is refused with a
 * stable reason code and a sentence for people. The apps map refusals to HTTP
 * in one exception filter; libs/policy never throws for a refusal.
 */
import type { ReasonCode } from './reason-code';

/** A refused action: a stable machine code and a human-readable detail. */
export interface Refusal {
  readonly allowed: false;
  readonly code: ReasonCode;
  readonly detail: string;
}

/** An allowed action, carrying what the rule computed (validity, window...). */
export type Allowed<T extends object = object> = { readonly allowed: true } & Readonly<T>;

/** The result of a policy rule: `Allowed<T>` or a `Refusal` (PolicyViolation). */
export type Decision<T extends object = object> = Allowed<T> | Refusal;

/** Builds an allowed decision carrying `value`. */
export function allow<T extends object = object>(value?: T): Allowed<T> {
  return { ...(value as T), allowed: true };
}

/** Builds a refusal with its reason code (docs/lifecycle.md lists them all). */
export function refuse(code: ReasonCode, detail: string): Refusal {
  return { allowed: false, code, detail };
}

/** Narrows a decision to its refusal. */
export function isRefusal<T extends object>(decision: Decision<T>): decision is Refusal {
  return !decision.allowed;
}
