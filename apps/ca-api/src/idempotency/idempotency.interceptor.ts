import {
  CallHandler,
  Inject,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NestInterceptor,
  SetMetadata,
  applyDecorators,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHmac } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';
import { AppConfig, Clock, isDatabaseUnavailable, ProblemException, toProblem } from '@moica/platform';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { principalKey } from '../auth/principal';
import { APP_CONFIG } from '../tokens';
import { IdempotencyClaimLost, IdempotencyTicket, STALE_CLAIM_SECONDS } from './idempotency-claim';
import { IdempotencyClaimRef, IdempotencyRepository } from './idempotency.repository';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type IdempotentRequest = AuthenticatedRequest & { idempotency?: IdempotencyTicket };

/**
 * Idempotency-Key on every state-changing call
 * (draft-ietf-httpapi-idempotency-key-header): a retry with the same key and
 * body gets the first answer again (header Idempotent-Replayed: true); the
 * same key with another body is refused (422); a retry while the first is
 * still running gets 409 and Retry-After. A request still running when a
 * retry takes its stale claim over can no longer record its answer: it gets
 * 409 idempotency-claim-lost, and its change is rolled back: every
 * state-changing handler completes the claim in the transaction of its
 * change (IdempotencyRepository.completeInTransaction).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  /**
   * Key of the request fingerprint, derived from PII_HMAC_KEY. Bodies carry
   * national IDs and user codes (online suspension, card unlock): a plain
   * SHA-256 of one would let whoever reads the table try user codes at hash
   * speed, next to the memory-hard scrypt hash kept for them (DOMAIN.md:
   * never store the user code in a recoverable form).
   */
  private readonly fingerprintKey: Buffer;
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.fingerprintKey = createHmac('sha256', config.piiHmacKey).update('moica idempotency request fingerprint v1').digest();
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.handle(context, next));
  }

  private async handle(context: ExecutionContext, next: CallHandler): Promise<unknown> {
    const request = context.switchToHttp().getRequest<IdempotentRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new ProblemException(
        'idempotency-key-required',
        HttpStatus.BAD_REQUEST,
        'Idempotency-Key required',
        'state-changing calls need an Idempotency-Key header of 1 to 255 printable ASCII characters',
      );
    }
    const principal = request.principal ? principalKey(request.principal) : `anonymous:${request.ip}`;
    // HMAC-SHA-256 under fingerprintKey (the column keeps its name request_sha256).
    const requestSha256 = createHmac('sha256', this.fingerprintKey)
      .update(`${request.method} ${request.url}\n`)
      .update(JSON.stringify(request.body ?? null))
      .digest();

    const now = this.clock.now();
    let token = await this.repository.tryClaim(principal, key, requestSha256, now);
    if (!token) {
      const existing = await this.repository.find(principal, key);
      if (!existing) throw new ProblemException('idempotency-conflict', HttpStatus.CONFLICT, 'Conflict', 'retry the request');
      if (!existing.requestSha256.equals(requestSha256)) {
        throw new ProblemException(
          'idempotency-key-reused',
          HttpStatus.UNPROCESSABLE_ENTITY,
          'Idempotency-Key reused',
          'this Idempotency-Key was used for a different request',
        );
      }
      if (existing.responseStatus !== null) {
        void reply.status(existing.responseStatus).header('idempotent-replayed', 'true');
        if (existing.responseStatus >= 400) void reply.header('content-type', 'application/problem+json; charset=utf-8');
        return existing.responseBody;
      }
      const stale = now.getTime() - existing.createdAt.getTime() > STALE_CLAIM_SECONDS * 1000;
      token = stale ? await this.repository.takeOver(principal, key, existing.createdAt, now) : undefined;
      if (!token) {
        void reply.header('retry-after', String(STALE_CLAIM_SECONDS));
        throw new ProblemException(
          'idempotency-request-in-progress',
          HttpStatus.CONFLICT,
          'Request in progress',
          'the first request with this Idempotency-Key has not finished; retry later',
        );
      }
    }

    const ticket: IdempotencyTicket = { principal, key, token, completed: false };
    request.idempotency = ticket;
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      if (!ticket.completed && !(await this.repository.complete(ticket, reply.statusCode, body, this.clock.now()))) {
        // A handler that did not complete in its transaction (it changed nothing) lost its claim to a retry.
        this.logger.warn({ idempotencyKey: key }, 'Idempotency-Key claim taken over by a retry while the request ran; its answer is not recorded');
        throw new IdempotencyClaimLost('its answer was not recorded');
      }
      return body;
    } catch (error) {
      const status = error instanceof HttpException ? error.getStatus() : 500;
      // A refusal is the first answer and is replayed; a transient or server failure is not.
      const replayable = status >= 400 && status < 500 && ![408, 409, 423, 425, 429].includes(status);
      // Whatever ticket.completed says: a service marks it when it writes the answer in its transaction,
      // and that transaction may still have failed (its COMMIT, a later step). Both statements touch only
      // an unfinished claim of this token, so they are no-ops when the completion did commit.
      if (replayable) {
        // Not recorded when a retry took the claim over: the refusal is still this request's answer.
        await this.repository.complete(ticket, status, toProblem(error), this.clock.now());
      } else {
        // A no-op for a claim a retry took over (IdempotencyClaimLost is a 409): the retry keeps it.
        await this.releaseOrRetryLater(ticket, error);
      }
      throw error;
    }
  }

  /**
   * Forgets the claim of a failed request. When the database itself is gone
   * (a restart, a fail-over) the DELETE fails too: it is retried in the
   * background for up to STALE_CLAIM_SECONDS, so the client's retry with the
   * same key runs as soon as the database is back instead of meeting 409
   * until the claim goes stale. Safe even if the failure hid a commit: a
   * completed claim (completed in the service's transaction) is never
   * deleted (issue 11, docs/operations.md), nor is a claim a retry took over
   * (its token differs).
   */
  private async releaseOrRetryLater(claim: IdempotencyClaimRef, cause: unknown): Promise<void> {
    try {
      await this.repository.release(claim);
    } catch (error) {
      if (!isDatabaseUnavailable(error) && !isDatabaseUnavailable(cause)) throw error;
      const deadline = Date.now() + STALE_CLAIM_SECONDS * 1000;
      const retry = () => {
        this.repository.release(claim).catch(() => {
          if (Date.now() < deadline) setTimeout(retry, 1000).unref();
        });
      };
      setTimeout(retry, 1000).unref();
    }
  }
}

export const IDEMPOTENT_KEY = 'moica:idempotent';

/** Marks a state-changing route: Idempotency-Key required, first answer replayed. */
export function Idempotent() {
  return applyDecorators(
    SetMetadata(IDEMPOTENT_KEY, true),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: true,
      description:
        'Unique per operation (1-255 printable ASCII). A retry with the same key and body returns the first answer; ' +
        `one while the first still runs gets 409 idempotency-request-in-progress. After ${STALE_CLAIM_SECONDS} s a retry takes the ` +
        'claim over: the first request, if still running, then gets 409 idempotency-claim-lost and its answer is not recorded ' +
        '(its change, made in one transaction with its answer, is rolled back).',
    }),
  );
}
