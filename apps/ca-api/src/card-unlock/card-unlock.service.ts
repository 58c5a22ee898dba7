import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appendAudit, AuditRecord } from '@moica/db';
import { CardKeyError, cardUnblockMessage, CARD_UNBLOCK_MESSAGE_TAG, keyLocationLabel, parseKeyLocation } from '@moica/pki';
import { decideCardUnlock } from '@moica/policy';
import { AppConfig, Clock, ProblemException } from '@moica/platform';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository } from '../lifecycle/card-certificates.repository';
import { ClientRateLimited, ClientRateLimiter } from '../lifecycle/client-rate-limiter';
import { UserCodeCheckService } from '../lifecycle/user-code-check.service';
import { APP_CONFIG } from '../tokens';
import { CardUnlockKeyRing } from './card-unlock-key-ring';
import { CardUnlockFailures, CardUnlockRepository } from './card-unlock.repository';

export interface CardUnlockAnswer {
  cardNumber: string;
  keyVersion: number;
  protocol: string;
  response: string;
}

export interface BureauExport {
  wrapping: string;
  transportKey: string;
  cards: Array<{ cardNumber: string; keyVersion: number; wrappedKey: string }>;
}

/**
 * Card unlock online (鎖卡解碼, issue 12, docs/card-unlock.md): the holder's
 * card tool sends the national ID, card number, user code and the card's
 * unblock challenge; the CA checks the user code exactly as for online
 * suspension (UserCodeCheckService: hashed, constant time, per-card lock-out;
 * ClientRateLimiter), decides with libs/policy whether this card may be
 * unlocked, refuses a challenge it answered before, and answers with the
 * AES-CMAC under the card's unblock key, derived from the master key of the
 * card's version. Every attempt, answered or refused, is one audit record.
 */
@Injectable()
export class CardUnlockService {
  private readonly logger = new Logger('CardUnlockService');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly userCodes: UserCodeCheckService,
    private readonly rateLimiter: ClientRateLimiter,
    private readonly certificates: CardCertificatesRepository,
    private readonly repository: CardUnlockRepository,
    private readonly keys: CardUnlockKeyRing,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  async unlock(
    request: { nationalId: string; cardNumber: string; userCode: string; challenge: string },
    clientIp: string,
    ticket?: IdempotencyTicket,
  ): Promise<CardUnlockAnswer> {
    let holderId: string | null = null;
    let audited = false;
    try {
      this.rateLimiter.take(clientIp);
      // A refusal of the user-code check is audited in its transaction, with the failure count it changed.
      holderId = await this.userCodes.verify(request.nationalId, request.cardNumber, request.userCode, clientIp, async (manager, refusal) => {
        await appendAudit(manager, this.refusalRecord(request.cardNumber, null, refusal.code, clientIp));
        audited = true;
      });
      return await this.answer(request.cardNumber, Buffer.from(request.challenge, 'hex'), holderId, clientIp, ticket);
    } catch (error) {
      // A client over its rate limit is audited once per window, not per request: the limit is there to shed load,
      // and an audit record per refused request would let one client take the audit chain's lock at will.
      if (!audited && !(error instanceof ClientRateLimited && !error.firstInWindow)) {
        await this.auditRefusal(request.cardNumber, holderId, error instanceof ProblemException ? error.code : 'internal-error', clientIp);
      }
      throw error;
    }
  }

  private refusalRecord(cardNumber: string, holderId: string | null, reason: string, clientIp: string): AuditRecord {
    return {
      at: this.clock.now(),
      actorKind: 'holder',
      actorId: holderId,
      operation: 'card-unlock.refused',
      subjectKind: 'card',
      subjectId: cardNumber,
      after: { reason },
      detail: { clientIp },
    };
  }

  private answer(cardNumber: string, challenge: Buffer, holderId: string, clientIp: string, ticket?: IdempotencyTicket): Promise<CardUnlockAnswer> {
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      // Locks the card's certificates: concurrent unlocks of one card serialise.
      const certificates = await this.certificates.lockByCardNumber(manager, cardNumber);
      if (certificates.length === 0) throw notFound('card-not-found', 'no certificates are registered for this card number');
      const decision = decideCardUnlock(
        certificates.map((certificate) => certificate.facts),
        now,
      );
      if (!decision.allowed) throw refusalProblem(decision);
      const cardId = certificates[0].cardId;
      const keyVersion = await this.repository.keyVersion(manager, cardId);
      if (!(await this.repository.recordChallenge(manager, cardId, challenge, now))) {
        throw new ProblemException('card-unlock-challenge-replayed', HttpStatus.CONFLICT, 'Challenge already answered', 'this challenge of the card was answered before; let the card make a new one');
      }
      const card = { cardNumber, keyVersion };
      const derivation = await this.keys.forVersion(keyVersion);
      let response: Buffer;
      try {
        response = await derivation.macUnderCardKey(card, cardUnblockMessage(card, challenge));
      } catch (cause) {
        throw this.keyStoreProblem(cause);
      }
      const answer: CardUnlockAnswer = { cardNumber, keyVersion, protocol: CARD_UNBLOCK_MESSAGE_TAG, response: response.toString('hex') };
      await appendAudit(manager, {
        at: now,
        actorKind: 'holder',
        actorId: holderId,
        operation: 'card-unlock.answered',
        subjectKind: 'card',
        subjectId: cardNumber,
        after: { keyVersion, challenge: challenge.toString('hex') },
        detail: { clientIp, masterKey: derivation.keyLabel },
      });
      if (ticket) {
        await this.idempotency.completeInTransaction(manager, ticket, 200, answer, now);
      }
      return answer;
    });
  }

  /** The audit record of a refusal that changed nothing (past the user-code check, or before it), committed on its own. */
  private async auditRefusal(cardNumber: string, holderId: string | null, reason: string, clientIp: string): Promise<void> {
    try {
      await this.dataSource.transaction((manager) => appendAudit(manager, this.refusalRecord(cardNumber, holderId, reason, clientIp)));
    } catch (error) {
      // The refusal still reaches the caller; the failed audit write is logged for operators.
      this.logger.error(`could not audit a refused card unlock: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The per-card unblock keys for the card bureau, wrapped under the
   * transport key (RFC 3394), for cards not issued yet (an issued card's
   * number is refused). A card number keeps the version it was first
   * exported with, so exporting it again gives the same bytes; a new card
   * number gets the active version. One transaction, one audit
   * record naming the card numbers and versions.
   */
  async exportForBureau(cardNumbers: string[], staffId: string, ticket?: IdempotencyTicket): Promise<BureauExport> {
    const transport = this.config.CARD_BUREAU_TRANSPORT_KEY;
    if (!transport) {
      throw new ProblemException('bureau-transport-key-not-configured', HttpStatus.SERVICE_UNAVAILABLE, 'No bureau transport key', 'CARD_BUREAU_TRANSPORT_KEY is not configured');
    }
    const unique = [...new Set(cardNumbers)];
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      // First, before anything is read: the counter inserts a card row of one of these numbers only under the same
      // lock, so a card cannot be issued between the check below and the personalisation, nor take its version
      // from card_personalisation before this export's version is committed (1796312000000-card-number-lock).
      await this.repository.lockCardNumbers(manager, unique);
      const active = await this.repository.activeVersion(manager);
      if (active === undefined) {
        throw new ProblemException('no-card-unlock-master-key', HttpStatus.CONFLICT, 'No card unlock master key', 'the key ceremony has not created a card unlock master key yet');
      }
      // Keys go to the bureau only for cards it has yet to make: the key of a card in a holder's hands would
      // unblock that card without the user code (docs/card-unlock.md, "The card bureau").
      const issued = await this.repository.issuedCardNumbers(manager, unique);
      if (issued.length > 0) {
        throw new ProblemException('card-already-issued', HttpStatus.CONFLICT, 'Card already issued', `the unblock keys of issued cards are never exported: ${issued.join(', ')}`, {
          cardNumbers: issued,
        });
      }
      const versions = await this.repository.personalise(manager, unique, active, now, `staff:${staffId}`);
      const cards: BureauExport['cards'] = [];
      for (const cardNumber of unique) {
        const { version } = versions.get(cardNumber)!;
        const derivation = await this.keys.forVersion(version);
        try {
          cards.push({ cardNumber, keyVersion: version, wrappedKey: (await derivation.wrapCardKeyForBureau({ cardNumber, keyVersion: version })).toString('base64') });
        } catch (cause) {
          throw this.keyStoreProblem(cause);
        }
      }
      const result: BureauExport = { wrapping: 'RFC 3394 AES Key Wrap (default IV)', transportKey: keyLocationLabel(parseKeyLocation(transport)), cards };
      await appendAudit(manager, {
        at: now,
        actorKind: 'operator',
        actorId: `staff:${staffId}`,
        operation: 'card-unlock.keys-exported',
        subjectKind: 'card-bureau',
        subjectId: null,
        after: {
          transportKey: result.transportKey,
          cards: cards.map((card) => ({ cardNumber: card.cardNumber, keyVersion: card.keyVersion, newlyPersonalised: versions.get(card.cardNumber)!.fresh })),
        },
      });
      if (ticket) {
        await this.idempotency.completeInTransaction(manager, ticket, 200, result, now);
      }
      return result;
    });
  }

  /** Cards with repeated refused unlock attempts in the last `hours` hours. */
  failures(hours: number, minimum: number): Promise<CardUnlockFailures[]> {
    const now = this.clock.now();
    return this.repository.failures(this.dataSource.manager, new Date(now.getTime() - hours * 3600_000), now, minimum, 500);
  }

  private keyStoreProblem(cause: unknown): ProblemException {
    if (cause instanceof CardKeyError) {
      this.logger.error(cause.message);
      return new ProblemException('card-key-store-unavailable', HttpStatus.SERVICE_UNAVAILABLE, 'Card key store unavailable', 'the card key could not be computed');
    }
    throw cause;
  }
}
