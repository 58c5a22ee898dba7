/** One thing a process needs before it can serve: the database, the CA keys... */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves with a short description when ready; rejects (or throws) with the reason when not. */
  check(): Promise<string>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
