import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  Channel,
  decideTransition,
  effectiveState,
  LifecycleEvent,
  refusalForState,
  Transition,
} from '@moica/policy';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository, LockedCertificate } from './card-certificates.repository';
import { CertificateStatusPublisher, StoredStatus } from './certificate-status-publisher';
import { DelegationRepository } from './delegation.repository';
import { enqueueNotice } from '../notifications/enqueue-notice';

/** Who asks, as the audit log records it. */
export interface LifecycleActor {
  kind: 'clerk' | 'supervisor' | 'operator' | 'holder' | 'court' | 'household-registration';
  id: string | null;
  officeId: string | null;
}

/** A delegate acting for the holder at an office (DOMAIN.md 委託代辦). */
export interface DelegationRecord {
  delegateName: string;
  delegateNationalId: string;
  formReference: string;
  holderCardPresented: boolean;
}

export interface LifecycleResult {
  cardNumber: string;
  status: StoredStatus;
  certificates: Array<{ serial: string; kind: string; status: StoredStatus }>;
}

/** One card's suspension, resumption or revocation, and who asks. */
export interface LifecycleChange {
  cardNumber: string;
  event: LifecycleEvent;
  channel: Channel;
  actor: LifecycleActor;
  delegation?: DelegationRecord;
  invalidityDate?: Date;
  detail?: Record<string, unknown>;
  /** Extra checks on the locked rows (the holder's user code, the holder of the card). */
  precondition?: (manager: EntityManager, locked: LockedCertificate[]) => Promise<void>;
}

/** Refusals of a card with no live certificate left, which a household event skips. */
const NOTHING_TO_REVOKE = new Set(['certificate-expired', 'certificate-revoked']);

const TO_STORED: Record<Transition['to'], StoredStatus> = {
  valid: 'valid',
  suspended: 'suspended',
  revoked: 'revoked',
  'on-hold-until-activated': 'on_hold',
};

/**
 * Suspension, resumption and revocation of a card's certificates, whoever
 * asks (counter, delegate, holder online, court, household registration):
 * the certificates are locked, libs/policy decides for each, and the change,
 * the delegation, the audit record and the idempotent answer are one
 * transaction.
 */
@Injectable()
export class LifecycleService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly certificates: CardCertificatesRepository,
    private readonly publisher: CertificateStatusPublisher,
    private readonly delegations: DelegationRepository,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  async change(request: LifecycleChange & { ticket?: IdempotencyTicket }): Promise<LifecycleResult> {
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      const result = await this.changeIn(manager, request, now);
      if (request.ticket) {
        await this.idempotency.completeInTransaction(manager, request.ticket, 200, result, now);
      }
      return result;
    });
  }

  /**
   * A household-registration event (DOMAIN.md "Automatic revocation"):
   * revokes every card given, in one transaction with the answer, so the
   * event is applied to all of the person's cards or to none, and a request
   * whose claim a retry took over rolls back. Cards are locked in the order
   * given (the caller sorts them, so two events do not deadlock); a card whose
   * certificates all expired or were revoked in the meantime has nothing to
   * revoke and is skipped.
   */
  async revokeCards(
    cardNumbers: string[],
    request: Omit<LifecycleChange, 'cardNumber' | 'precondition'>,
    ticket: IdempotencyTicket,
  ): Promise<{ revoked: LifecycleResult[] }> {
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      // Every card locked before the first audit record, which holds the audit chain head until COMMIT:
      // waiting for a card's lock while holding the head could deadlock with a change of that card.
      for (const cardNumber of cardNumbers) await this.certificates.lockByCardNumber(manager, cardNumber);
      const revoked: LifecycleResult[] = [];
      for (const cardNumber of cardNumbers) {
        try {
          revoked.push(await this.changeIn(manager, { ...request, cardNumber }, now));
        } catch (error) {
          // Refused before any write of this card's change, so the transaction goes on: the card's
          // certificates expired, or were revoked (at the counter) since the caller found them.
          if (!(error instanceof ProblemException && NOTHING_TO_REVOKE.has(error.code))) throw error;
        }
      }
      const result = { revoked };
      await this.idempotency.completeInTransaction(manager, ticket, 200, result, now);
      return result;
    });
  }

  /** One card's change inside the caller's transaction, without the idempotent answer. */
  private async changeIn(manager: EntityManager, request: LifecycleChange, now: Date): Promise<LifecycleResult> {
    const locked = await this.certificates.lockByCardNumber(manager, request.cardNumber);
    if (locked.length === 0) throw notFound('card-not-found', 'no certificates are registered for this card number');
    await request.precondition?.(manager, locked);

    const live = locked.filter((c) => c.status !== 'revoked' && c.facts.notAfter.getTime() >= now.getTime());
    if (live.length === 0) {
      const latest = [...locked].sort((a, b) => b.facts.notAfter.getTime() - a.facts.notAfter.getTime())[0];
      const state = effectiveState(latest.facts, now);
      throw refusalProblem(refusalForState(state === 'valid' ? 'expired' : state));
    }
    const transitions: Transition[] = [];
    for (const certificate of live) {
      const decision = decideTransition(certificate.facts, request.event, request.channel, now);
      if (!decision.allowed) throw refusalProblem(decision);
      transitions.push(decision.transition);
    }
    const transition = transitions[0];
    const to = TO_STORED[transition.to];
    const before = live.map((c) => ({ serial: c.serial.toString('hex'), status: c.status }));
    await this.publisher.apply(
      manager,
      live,
      { to, reason: transition.crlReason, suspendedBy: transition.suspendedBy, invalidityDate: request.invalidityDate ?? null },
      now,
      { kind: request.actor.kind, id: request.actor.id, detail: { channel: request.channel, ...(request.detail ?? {}) } },
    );

    let delegate: Record<string, unknown> | null = null;
    if (request.delegation) {
      const delegationId = await this.delegations.record(manager, {
        holderId: live[0].holderId,
        operation: request.event.kind,
        delegation: request.delegation,
        actor: request.actor,
        at: now,
      });
      delegate = {
        delegationId,
        name: request.delegation.delegateName,
        formReference: request.delegation.formReference,
        holderCardPresented: request.delegation.holderCardPresented,
      };
    }
    // Issue 8: the holder is told, once per change (the event key), if and only if the change commits.
    await enqueueNotice(manager, {
      kind: to === 'suspended' ? 'certificate-suspended' : to === 'revoked' ? 'certificate-revoked' : 'certificate-resumed',
      holderId: live[0].holderId,
      certificateId: live[0].id,
      eventKey: `card-status:${live[0].cardId}:${to}:${now.toISOString()}`,
      occurredAt: now,
    });
    const result: LifecycleResult = {
      cardNumber: request.cardNumber,
      status: to,
      certificates: live.map((c) => ({ serial: c.serial.toString('hex'), kind: c.kind, status: to })),
    };
    await appendAudit(manager, {
      at: now,
      actorKind: request.actor.kind,
      actorId: request.actor.id,
      officeId: request.actor.officeId,
      operation: `certificate.${request.event.kind}`,
      subjectKind: 'card',
      subjectId: request.cardNumber,
      delegate,
      before: { certificates: before },
      after: { status: to, reason: transition.crlReason, channel: request.channel },
      detail: request.detail ?? {},
    });
    return result;
  }
}
