/**
 * CRLReason (RFC 5280 §5.3.1), shared by CRL entries and OCSP RevokedInfo
 * (RFC 6960 §4.2.1). Code 7 is unused. DOMAIN.md: a suspension is
 * `certificateHold`; a resumption is `removeFromCRL` in a delta CRL.
 */
export const CRL_REASON_CODES = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

/** A revocation reason by its RFC 5280 name. */
export type CrlReason = keyof typeof CRL_REASON_CODES;

const REASON_BY_CODE = new Map<number, CrlReason>(
  Object.entries(CRL_REASON_CODES).map(([name, code]) => [code, name as CrlReason]),
);

/** The reason for a numeric CRLReason code, or undefined for 7 and unknown codes. */
export function crlReasonFromCode(code: number): CrlReason | undefined {
  return REASON_BY_CODE.get(code);
}

/** The numeric code of a reason; throws on a name that is not a CRLReason. */
export function crlReasonCode(reason: CrlReason): number {
  const code = (CRL_REASON_CODES as Record<string, number>)[reason];
  if (code === undefined) throw new RangeError(`unknown CRL reason ${String(reason)}`);
  return code;
}
