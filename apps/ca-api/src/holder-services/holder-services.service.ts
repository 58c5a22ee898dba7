import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Channel, checkEmailAddress, checkMobileNumber, checkUserCode, decideHolderService, HolderServiceOperation } from '@moica/policy';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException, UserCodeHasher } from '@moica/platform';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository, LockedCertificate } from '../lifecycle/card-certificates.repository';
import { DelegationRepository } from '../lifecycle/delegation.repository';
import type { DelegationRecord, LifecycleActor } from '../lifecycle/lifecycle.service';
import { TransportNotificationChannels } from '../notifications/notification-channels';
import { CardSignatureProof, CardSignatureService } from '../online/card-signature.service';
import { NOTIFICATION_CHANNELS } from '../tokens';
import { enqueueNotice } from '../notifications/enqueue-notice';
import { VERIFICATION_MINUTES, VerificationCodeRepository } from './verification-code.repository';


export type ContactKind = 'mobile' | 'email';

interface Request {
  cardNumber: string;
  channel: Channel;
  actor: LifecycleActor;
  delegation?: DelegationRecord;
  /** Online: the card's signature over a challenge, used up in the change's transaction. */
  cardSignature?: CardSignatureProof;
  ticket: IdempotencyTicket;
}

/**
 * The holder services of DOMAIN.md's table other than the status changes:
 * user-code reset, publication status, change of mobile number and contact
 * e-mail (each confirmed by a code sent to the new number or address). The
 * policy decides who may (holder, delegate with or without the card, online
 * by card signature); each change, its delegation and its audit record are
 * one transaction.
 */
@Injectable()
export class HolderServicesService {
  private readonly logger = new Logger(HolderServicesService.name);

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly certificates: CardCertificatesRepository,
    private readonly delegations: DelegationRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly userCodes: UserCodeHasher,
    @Inject(NOTIFICATION_CHANNELS) private readonly channels: TransportNotificationChannels,
    private readonly verificationCodes: VerificationCodeRepository,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  async resetUserCode(request: Request & { newUserCode: string }): Promise<{ cardNumber: string; userCode: 'reset' }> {
    const valid = checkUserCode(request.newUserCode);
    if (!valid.allowed) throw refusalProblem(valid);
    const hash = await this.userCodes.hash(request.newUserCode);
    return this.inTransaction(request, 'user-code-reset', async (manager, holderId) => {
      await manager.query(
        `UPDATE holder SET user_code_hash = $2, user_code_failures = 0, user_code_locked_until = NULL, updated_at = $3 WHERE id = $1`,
        [holderId, hash, this.clock.now()],
      );
      // A new user code also lifts the lock-out of the holder's cards (DOMAIN.md: the reset unblocks).
      await manager.query(`UPDATE card SET user_code_failures = 0, user_code_locked_until = NULL WHERE holder_id = $1`, [holderId]);
      return { result: { cardNumber: request.cardNumber, userCode: 'reset' as const }, after: { userCode: 'reset' } };
    });
  }

  async setPublication(request: Request & { consent: boolean }): Promise<{ cardNumber: string; publicationConsent: boolean }> {
    return this.inTransaction(request, 'change-publication-status', async (manager, holderId) => {
      const before: Array<{ publication_consent: boolean }> = await manager.query(`SELECT publication_consent FROM holder WHERE id = $1`, [holderId]);
      await manager.query(`UPDATE holder SET publication_consent = $2, updated_at = $3 WHERE id = $1`, [holderId, request.consent, this.clock.now()]);
      return {
        result: { cardNumber: request.cardNumber, publicationConsent: request.consent },
        before: { publicationConsent: before[0].publication_consent },
        after: { publicationConsent: request.consent },
      };
    });
  }

  /** Sends a code to the new number or address; the change happens when the code comes back. */
  async startContactChange(request: Request & { kind: ContactKind; newValue: string }): Promise<{ verificationId: string; expiresAt: string; sentTo: string }> {
    const check = request.kind === 'mobile' ? checkMobileNumber(request.newValue) : checkEmailAddress(request.newValue);
    if (!check.allowed) throw refusalProblem(check);
    const normalised = 'mobileNumber' in check ? check.mobileNumber : (check as { email: string }).email;
    const available = request.kind === 'mobile' ? this.channels.configured.sms : this.channels.configured.email;
    if (!available) {
      throw new ProblemException(
        'verification-channel-unavailable',
        HttpStatus.SERVICE_UNAVAILABLE,
        'Cannot send the code',
        `${request.kind === 'mobile' ? 'SMS' : 'e-mail'} is not configured on this CA`,
      );
    }
    const operation = request.kind === 'mobile' ? 'change-mobile-number' : 'change-contact-email';
    let code = '';
    const started = await this.inTransaction(request, operation, async (manager, holderId) => {
      const created = await this.verificationCodes.create(manager, { holderId, purpose: operation, value: normalised, now: this.clock.now() });
      code = created.code;
      return {
        result: { verificationId: created.id, expiresAt: created.expiresAt.toISOString(), sentTo: mask(request.kind, normalised) },
        after: { verificationId: created.id, pending: operation },
      };
    });
    const text = `【內政部憑證管理中心】驗證碼 ${code}，${VERIFICATION_MINUTES} 分鐘內有效。Your MOICA verification code is ${code}.`;
    try {
      if (request.kind === 'mobile') {
        await this.channels.sendSms({ to: normalised, text, idempotencyKey: started.verificationId });
      } else {
        await this.channels.sendEmail({ to: normalised, subject: '憑證聯絡資料變更驗證碼 / Verification code', text, idempotencyKey: started.verificationId });
      }
    } catch (error) {
      this.logger.error({ err: error, verificationId: started.verificationId }, 'verification code not delivered');
      throw new ProblemException('verification-not-delivered', HttpStatus.SERVICE_UNAVAILABLE, 'Code not delivered', 'the code could not be sent; try again');
    }
    return started;
  }

  async confirmContactChange(request: Request & { verificationId: string; code: string }): Promise<{ cardNumber: string; changed: string; value: string }> {
    // A wrong code is counted even though the request is refused (the check commits on its own).
    const verdict = await this.verificationCodes.check(request.verificationId, request.code, this.clock.now());
    if (!verdict.ok && verdict.code === 'verification-not-found') throw notFound('verification-not-found', 'unknown verification');
    if (!verdict.ok) {
      throw new ProblemException(verdict.code, HttpStatus.UNPROCESSABLE_ENTITY, 'Verification failed', verdict.code === 'verification-expired'
        ? 'the code expired, was used, or had too many wrong tries; start again'
        : 'the code is wrong');
    }
    const operation = verdict.purpose as HolderServiceOperation;
    const column = operation === 'change-mobile-number' ? 'mobile' : 'contact_email';
    return this.inTransaction(request, operation, async (manager, holderId) => {
      if (holderId !== verdict.holderId) throw notFound('verification-not-found', 'unknown verification for this card');
      if (!(await this.verificationCodes.markUsed(manager, request.verificationId, this.clock.now()))) throw new ProblemException('verification-expired', HttpStatus.UNPROCESSABLE_ENTITY, 'Verification failed', 'already used');
      const previous: Array<{ mobile: string; contact_email: string }> = await manager.query(`SELECT mobile, contact_email FROM holder WHERE id = $1`, [holderId]);
      await manager.query(`UPDATE holder SET ${column} = $2, updated_at = $3 WHERE id = $1`, [holderId, verdict.value, this.clock.now()]);
      // Issue 8: "contact details changed", to the old and the new address.
      await enqueueNotice(manager, {
        kind: 'contact-details-changed',
        holderId,
        eventKey: `contact-change:${request.verificationId}`,
        occurredAt: this.clock.now(),
        previousContact: column === 'mobile' ? { mobile: previous[0].mobile } : { email: previous[0].contact_email },
      });
      return {
        result: { cardNumber: request.cardNumber, changed: column, value: verdict.value },
        after: { [column]: mask(column === 'mobile' ? 'mobile' : 'email', verdict.value) },
      };
    });
  }

  /** Uses up the card's challenge (online), locks the card, lets the policy decide, runs the change, records delegation and audit, completes the idempotent answer. */
  private async inTransaction<T>(
    request: Request,
    operation: HolderServiceOperation,
    change: (manager: EntityManager, holderId: string) => Promise<{ result: T; before?: Record<string, unknown>; after: Record<string, unknown> }>,
  ): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      // First, before any other lock: a request with the same challenge waits here, then finds it used (or free if this rolls back).
      if (request.cardSignature) await this.cardSignatures.useUp(manager, request.cardSignature, request.ticket);
      const locked = await this.certificates.lockByCardNumber(manager, request.cardNumber);
      const current = latest(locked);
      if (!current) throw notFound('card-not-found', 'no certificates are registered for this card number');
      const decision = decideHolderService(operation, current.facts, request.channel, now);
      if (!decision.allowed) throw refusalProblem(decision);
      const { result, before, after } = await change(manager, current.holderId);
      let delegate: Record<string, unknown> | null = null;
      if (request.delegation) {
        const id = await this.delegations.record(manager, { holderId: current.holderId, operation, delegation: request.delegation, actor: request.actor, at: now });
        delegate = { delegationId: id, name: request.delegation.delegateName, formReference: request.delegation.formReference, holderCardPresented: request.delegation.holderCardPresented };
      }
      await appendAudit(manager, {
        at: now,
        actorKind: request.actor.kind,
        actorId: request.actor.id,
        officeId: request.actor.officeId,
        operation: `holder.${operation}`,
        subjectKind: 'holder',
        subjectId: current.holderId,
        delegate,
        before: before ?? null,
        after: { ...after, channel: request.channel, cardNumber: request.cardNumber },
      });
      await this.idempotency.completeInTransaction(manager, request.ticket, 200, result, now);
      return result;
    });
  }
}

function latest(rows: LockedCertificate[]): LockedCertificate | undefined {
  return [...rows].sort((a, b) => b.facts.notAfter.getTime() - a.facts.notAfter.getTime() || (a.status === 'revoked' ? 1 : -1))[0];
}


function mask(kind: ContactKind, value: string): string {
  if (kind === 'mobile') return value.replace(/^(\d{4})\d+(\d{3})$/, '$1***$2');
  const [local, domain] = value.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
