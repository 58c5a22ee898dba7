import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (validation); problem+json',
  401: 'Missing, unknown, expired or revoked credentials; problem+json',
  403: 'Role or channel not allowed for this operation; problem+json with the reason code',
  404: 'Not found; problem+json',
  409: 'Conflict with the current state (card number in use, request in progress, idempotency-claim-lost: a retry took over the Idempotency-Key of a request running over 60 s, certificate-changed and application-conflict: a concurrent request changed the card or registered the person while this one was being signed); problem+json',
  422: 'Refused by the policy or the PKI checks; problem+json whose type is the reason code',
  423: 'Locked (too many wrong user codes); problem+json with Retry-After',
  429: 'Rate limited; problem+json with Retry-After',
  503: 'Temporarily unavailable (signing failed or took too long, database unreachable, transaction-conflict: a deadlock or serialization failure with a concurrent request); nothing was changed; retry with the same Idempotency-Key',
};

/** The OpenAPI response of a problem+json (RFC 9457) answer with this status. */
export function problemResponse(status: number) {
  return {
    description: DESCRIPTIONS[status] ?? 'problem+json',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
  };
}

/** Documents the problem+json (RFC 9457) answers a route can give. */
export function ProblemResponses(...statuses: number[]) {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));
}
