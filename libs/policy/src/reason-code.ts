/**
 * Every reason code a policy refusal can carry. The codes are part of the API
 * contract: stable, kebab-case, never renamed; docs/lifecycle.md lists them
 * with the rule they come from. `category` tells the apps' exception filter
 * what kind of refusal it is (invalid data -> 422, not permitted for this
 * channel -> 403, wrong state or time -> 409).
 */

/** The kind of a refusal, for mapping to a transport status in one place. */
export type RefusalCategory = 'invalid-data' | 'not-eligible' | 'not-permitted' | 'conflict';

/** Catalogue of reason codes: category and one-line meaning. */
export const REASON_CODES = {
  // Eligibility and application data (DOMAIN.md "Eligibility and application").
  'national-id-malformed': { category: 'invalid-data', summary: 'The ID number is not one letter followed by nine digits of a known kind.' },
  'national-id-checksum-mismatch': { category: 'invalid-data', summary: 'The ID number fails its check digit.' },
  'not-a-national': { category: 'not-eligible', summary: 'The number is a resident (foreigner) number, not a national ID: the certificate is for nationals.' },
  'date-of-birth-invalid': { category: 'invalid-data', summary: 'The date of birth is not a real date or lies after the day of application.' },
  'under-age': { category: 'not-eligible', summary: 'The applicant is not yet 18 on the (Taiwan) day of application.' },
  'no-household-registration': { category: 'not-eligible', summary: 'The applicant has no household registration.' },
  'under-guardianship': { category: 'not-eligible', summary: 'The applicant is under guardianship (受監護宣告).' },
  'name-missing': { category: 'invalid-data', summary: 'The name is empty.' },
  'name-malformed': { category: 'invalid-data', summary: 'The name has control characters, surrounding spaces or more than 64 characters.' },
  'mobile-number-missing': { category: 'invalid-data', summary: 'The mobile number is empty.' },
  'mobile-number-malformed': { category: 'invalid-data', summary: 'The mobile number is not a Taiwan mobile number (09xxxxxxxx or +8869xxxxxxxx).' },
  'email-missing': { category: 'invalid-data', summary: 'The e-mail address is empty.' },
  'email-malformed': { category: 'invalid-data', summary: 'The e-mail address is not a well-formed ASCII address.' },
  'fee-not-paid': { category: 'not-eligible', summary: 'The NT$250 card fee has not been recorded.' },
  'fee-amount-incorrect': { category: 'invalid-data', summary: 'The recorded fee is not exactly NT$250.' },
  // User code (用戶代碼).
  'user-code-too-short': { category: 'invalid-data', summary: 'The user code has fewer than 6 characters.' },
  'user-code-too-long': { category: 'invalid-data', summary: 'The user code has more than 10 characters.' },
  'user-code-contains-space': { category: 'invalid-data', summary: 'The user code contains a space.' },
  'user-code-control-character': { category: 'invalid-data', summary: 'The user code contains a control character.' },
  'user-code-non-ascii': { category: 'invalid-data', summary: 'The user code contains a character outside printable ASCII.' },
  // Default PIN.
  'date-of-birth-before-roc-era': { category: 'invalid-data', summary: 'Born before 1912 (ROC year 1): no ROC date for the default PIN.' },
  // Validity and the 8-year cap.
  'exceeds-eight-year-cap': { category: 'conflict', summary: 'The certificate would end after issuedAt + 8 years.' },
  'card-lifetime-exhausted': { category: 'conflict', summary: 'The card has reached its 8-year cap: nothing more can be issued for it.' },
  'validity-before-card-issuance': { category: 'conflict', summary: 'The certificate would start before the card was issued.' },
  'validity-empty': { category: 'conflict', summary: 'notAfter would lie before notBefore.' },
  // Renewal and online re-issuance windows.
  'renewal-window-not-open': { category: 'conflict', summary: 'Renewal opens 60 days before the 5-year expiry.' },
  'renewal-window-closed': { category: 'conflict', summary: 'Renewal closed 3 years after the 5-year expiry (at the 8-year cap).' },
  'already-renewed': { category: 'conflict', summary: 'The certificate is itself a renewal: a renewal is never renewed again.' },
  'reissuance-window-not-open': { category: 'conflict', summary: 'Online re-issuance opens 60 days before the 8-year cap.' },
  'reissuance-window-closed': { category: 'conflict', summary: 'Online re-issuance closed 1 year after the 8-year cap.' },
  'suspended-at-expiry': { category: 'conflict', summary: 'The certificate was suspended when it expired: renewal and re-issuance need it valid.' },
  // Certificate state.
  'certificate-revoked': { category: 'conflict', summary: 'The certificate is revoked: revocation is final.' },
  'certificate-suspended': { category: 'conflict', summary: 'The certificate is suspended: resume it first.' },
  'certificate-not-suspended': { category: 'conflict', summary: 'Only a suspended certificate can be resumed.' },
  'certificate-expired': { category: 'conflict', summary: 'The certificate has expired.' },
  'certificate-not-yet-valid': { category: 'conflict', summary: 'The certificate is not valid yet (before notBefore).' },
  'certificate-not-activated': { category: 'conflict', summary: 'The re-issued card has not been activated online (開卡) yet.' },
  'certificate-already-activated': { category: 'conflict', summary: 'The certificate is already activated.' },
  'suspension-ordered-by-court': { category: 'not-permitted', summary: 'A court-ordered suspension is lifted only by a court order.' },
  'suspension-not-ordered-by-court': { category: 'not-permitted', summary: 'A court order lifts only a suspension a court ordered.' },
  'revocation-reason-not-permitted': { category: 'not-permitted', summary: 'This channel may not revoke for this reason.' },
  // Online re-issuance orders, payment and delivery (reissuance-order.ts, delivery-estimate.ts).
  'order-state-conflict': { category: 'conflict', summary: 'The re-issuance order is not in a state that allows this step.' },
  'order-not-cancellable': { category: 'conflict', summary: 'The personalised card is in production: the order can no longer be cancelled or refunded.' },
  'payment-deadline-passed': { category: 'conflict', summary: 'The payment arrived after the order\'s payment deadline; it is recorded and flagged for a refund.' },
  'payment-amount-mismatch': { category: 'invalid-data', summary: 'The amount paid does not match the order amount; it is recorded and flagged.' },
  'postal-code-invalid': { category: 'invalid-data', summary: 'Not a Taiwan postal code: re-issued cards are mailed domestically only.' },
  'postal-code-not-deliverable': { category: 'invalid-data', summary: 'Mail is not delivered to this postal area.' },
  // Channel (DOMAIN.md delegation table).
  'delegate-not-permitted': { category: 'not-permitted', summary: 'Application and revocation cannot be delegated.' },
  'holder-card-required': { category: 'not-permitted', summary: "The delegate must bring the holder's card for this operation." },
  'not-available-online': { category: 'not-permitted', summary: 'This operation is done at a registration office only.' },
  'card-signature-required': { category: 'not-permitted', summary: "Online, this operation needs a signature of the card's key, not the user code." },
  'user-code-required': { category: 'not-permitted', summary: 'Online, this operation needs the user code.' },
  'online-only': { category: 'not-permitted', summary: 'This operation is done online only.' },
  'channel-not-permitted': { category: 'not-permitted', summary: 'This channel (operator, court, household registration) may not do this operation.' },
  // Card unlock (鎖卡解碼, docs/card-unlock.md).
  'card-revoked': { category: 'conflict', summary: 'Every certificate of the card is revoked: the card is not unlocked any more.' },
} as const satisfies Record<string, { category: RefusalCategory; summary: string }>;

/** A stable reason code of a policy refusal. */
export type ReasonCode = keyof typeof REASON_CODES;

/** All reason codes, in catalogue order. */
export const ALL_REASON_CODES = Object.keys(REASON_CODES) as ReasonCode[];
