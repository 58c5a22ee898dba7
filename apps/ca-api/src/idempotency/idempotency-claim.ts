import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '@moica/platform';

/** Seconds after which an unfinished claim (its request crashed) may be taken over by a retry. */
export const STALE_CLAIM_SECONDS = 60;

/**
 * The claim a request holds on its Idempotency-Key. `token` is drawn anew by
 * every claim and every take-over, so a request whose claim was taken over
 * (it ran longer than STALE_CLAIM_SECONDS and the client retried) can neither
 * record its answer nor free the claim of the retry now running. A service
 * completes the claim inside its own transaction
 * (IdempotencyRepository.completeInTransaction); `completed` tells the
 * interceptor it did, so that a handler which returns (its transaction
 * committed) has its answer recorded once. It is set before COMMIT: when the
 * handler fails instead, the interceptor does not trust it and frees or
 * completes the claim with statements that leave a completed claim alone.
 */
export interface IdempotencyTicket {
  principal: string;
  key: string;
  token: string;
  completed: boolean;
}

/**
 * 409 idempotency-claim-lost: a retry with the same Idempotency-Key took this
 * request's claim over while it was still running. When thrown inside the
 * service's transaction the transaction rolls back, so the key's operation
 * changes state once, under the retry's claim.
 */
export class IdempotencyClaimLost extends ProblemException {
  constructor(outcome: string) {
    super(
      'idempotency-claim-lost',
      HttpStatus.CONFLICT,
      'Idempotency claim lost',
      `this request ran longer than ${STALE_CLAIM_SECONDS} s and a retry with the same Idempotency-Key took over its claim; ` +
        `${outcome}; retry with the same key for the answer that is recorded`,
    );
  }
}
