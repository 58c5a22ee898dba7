import { HttpStatus } from '@nestjs/common';
import { REASON_CODES, type Refusal } from '@moica/policy';
import { ProblemException } from '@moica/platform';

/**
 * The one mapping from a policy refusal to HTTP (STYLE.md rule 1: libs return
 * typed decisions, the app maps them in one place). The problem `type` is the
 * stable reason code; the status follows its category.
 */
const STATUS_BY_CATEGORY = {
  'invalid-data': HttpStatus.UNPROCESSABLE_ENTITY,
  'not-eligible': HttpStatus.UNPROCESSABLE_ENTITY,
  'not-permitted': HttpStatus.FORBIDDEN,
  conflict: HttpStatus.CONFLICT,
} as const;

export function refusalProblem(refusal: Refusal, extensions: Record<string, unknown> = {}): ProblemException {
  const category = REASON_CODES[refusal.code]?.category ?? 'invalid-data';
  return new ProblemException(refusal.code, STATUS_BY_CATEGORY[category], REASON_CODES[refusal.code]?.summary ?? refusal.code, refusal.detail, extensions);
}

/** Several refusals at once (an application form shows them all). The first one names the problem type. */
export function refusalsProblem(refusals: readonly Refusal[]): ProblemException {
  return refusalProblem(refusals[0], {
    errors: refusals.map((refusal) => ({ type: `urn:moica-ca:problem:${refusal.code}`, detail: refusal.detail })),
  });
}

/** A request, key or CSR refused by libs/pki (proof of possession, key quality, profile). */
export function pkiProblem(code: string, detail: string, extensions: Record<string, unknown> = {}): ProblemException {
  return new ProblemException(code, HttpStatus.UNPROCESSABLE_ENTITY, 'Certificate request refused', detail, extensions);
}

export function notFound(code: string, detail: string): ProblemException {
  return new ProblemException(code, HttpStatus.NOT_FOUND, 'Not Found', detail);
}
