/**
 * A ceremony step that was refused: the operator gets the reason, the CLI
 * exits with status 2, and (when the operator is known) the refusal itself
 * is audited. Never carries a PIN, passphrase or token.
 */
export type RefusalCode =
  | 'unauthenticated'
  | 'not-an-operator'
  | 'invalid-parameters'
  | 'quorum-misconfigured'
  | 'not-found'
  | 'own-request'
  | 'already-approved'
  | 'not-pending'
  | 'not-approved'
  | 'already-executed'
  | 'rejected'
  | 'parameters-changed'
  | 'not-an-approver'
  | 'conflict'
  | 'missing-secret';

export class CeremonyRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CeremonyRefused';
  }
}
