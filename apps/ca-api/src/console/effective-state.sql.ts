/**
 * The effective state of a certificate row at an instant, as SQL, for counts
 * over millions of rows that cannot be read into the application. It is the
 * rule of `effectiveState` in libs/policy (certificate-state.ts), written for
 * PostgreSQL: revoked wins over time; then expiry (a suspension ends at
 * expiry, CPS 4.4); then not-yet-valid; else the stored status.
 * effective-state.sql.e2e-spec.ts checks the two agree case by case.
 *
 * `certificate` is the table alias, `now` a parameter placeholder of type
 * timestamptz. Rows in 'pending' or 'abandoned' (never signed) must be
 * filtered out by the caller.
 */
export function effectiveStateSql(certificate: string, now: string): string {
  return `(CASE WHEN ${certificate}.status = 'revoked' THEN 'revoked'
                WHEN ${now}::timestamptz > ${certificate}.not_after THEN 'expired'
                WHEN ${now}::timestamptz < ${certificate}.not_before THEN 'not-yet-valid'
                WHEN ${certificate}.status = 'on_hold' THEN 'on-hold-until-activated'
                ELSE ${certificate}.status END)`;
}

/** The effective states the console shows (libs/policy EffectiveState). */
export const EFFECTIVE_STATES = ['valid', 'suspended', 'revoked', 'expired', 'on-hold-until-activated', 'not-yet-valid'] as const;
export type ConsoleEffectiveState = (typeof EFFECTIVE_STATES)[number];
