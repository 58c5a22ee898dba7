import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  applicationRefusals,
  cardLifetime,
  channelPermits,
  floorToSecond,
  newCertificateValidity,
  parseCalendarDate,
} from '@moica/policy';
import { appendAudit } from '@moica/db';
import { Clock, NationalIdVault, ProblemException, UserCodeHasher } from '@moica/platform';
import type { StaffPrincipal } from '../auth/principal';
import { CertificateIssuanceService, issuedCertificateViews } from '../certificates/certificate-issuance.service';
import { newCardOrders, parseNewCardRequests } from '../certificates/new-card-orders';
import { IssuingCaService } from '../certificates/issuing-ca.service';
import { SharedPrimeRepository } from '../certificates/shared-prime.repository';
import { refusalProblem, refusalsProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CertificateStatusPublisher } from '../lifecycle/certificate-status-publisher';
import { enqueueNotice } from '../notifications/enqueue-notice';
import { ApplicationDto, ApplicationResultDto } from './application.dto';
import { HolderRepository } from './holder.repository';

/**
 * A new application at the counter (DOMAIN.md "Eligibility and application"):
 * the policy decides, both card keys pass proof of possession and the key
 * checks, both certificates are issued, and holder, card, certificates,
 * supersession of the holder's previous card and the audit record are one
 * transaction.
 */
@Injectable()
export class ApplicationService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly issuingCas: IssuingCaService,
    private readonly issuance: CertificateIssuanceService,
    private readonly sharedPrimes: SharedPrimeRepository,
    private readonly holders: HolderRepository,
    private readonly vault: NationalIdVault,
    private readonly userCodes: UserCodeHasher,
    private readonly idempotency: IdempotencyRepository,
    private readonly statusPublisher: CertificateStatusPublisher,
  ) {}

  async apply(dto: ApplicationDto, principal: StaffPrincipal, ticket: IdempotencyTicket): Promise<ApplicationResultDto> {
    const now = this.clock.now();
    const permitted = channelPermits('application', 'holder-in-person');
    if (!permitted.allowed) throw refusalProblem(permitted);

    const dateOfBirth = parseCalendarDate(dto.applicant.dateOfBirth);
    if (!dateOfBirth) throw refusalProblem({ allowed: false, code: 'date-of-birth-invalid', detail: 'dateOfBirth is not a real date' });
    const refusals = applicationRefusals(
      {
        idNumber: dto.applicant.nationalId,
        dateOfBirth,
        name: dto.applicant.name,
        mobileNumber: dto.applicant.mobile,
        email: dto.applicant.email,
        hasHouseholdRegistration: dto.attestations.householdRegistration,
        underGuardianship: dto.attestations.underGuardianship,
        userCode: dto.userCode,
        feePaidNtd: dto.attestations.feePaidNtd,
      },
      now,
    );
    if (refusals.length > 0) throw refusalsProblem(refusals);
    const nationalId = dto.applicant.nationalId.trim().toUpperCase();

    const requests = parseNewCardRequests(dto.csrs);
    if (await this.holders.cardNumberTaken(dto.cardNumber)) {
      throw new ProblemException('card-number-in-use', HttpStatus.CONFLICT, 'Card number in use', 'this card number is already registered');
    }

    const ca = this.issuingCas.forNewCertificates();
    const hmac = this.vault.lookupHash(nationalId);
    const existing = await this.holders.findByNationalIdHash(hmac);
    const holderNumber = existing?.holder_number ?? (await this.holders.newHolderNumber());
    const issuedAt = floorToSecond(now);
    const validity = newCertificateValidity(issuedAt);
    if (!validity.allowed) throw refusalProblem(validity);
    const lifetime = cardLifetime(issuedAt);
    const crlPartition = partitionOf(dto.cardNumber, ca.profile.crlPartitions);

    const orders = await newCardOrders(
      requests,
      {
        holderName: dto.applicant.name.trim(),
        holderNumber,
        nationalIdLast4: nationalId.slice(-4),
        notBefore: validity.validity.notBefore,
        notAfter: validity.validity.notAfter,
        crlPartition,
      },
      { dataSource: this.dataSource, sharedPrimes: this.sharedPrimes },
    );
    const prepared = orders.map((order) => ({ order, prepared: this.issuance.prepare(ca, order, lifetime.capLastSecond) }));
    const [userCodeHash, recorded] = await Promise.all([this.userCodes.hash(dto.userCode), this.issuance.record(ca, prepared)]);
    const issued = await this.issuance.sign(ca, recorded);

    const result = await this.issuance.releaseOrAbandon(recorded, () => this.dataSource.transaction(async (manager) => {
      const holderId = existing?.id ?? randomUUID();
      if (existing) {
        await manager.query(
          `UPDATE holder SET name = $2, mobile = $3, contact_email = $4, publication_consent = $5, user_code_hash = $6,
                  user_code_failures = 0, user_code_locked_until = NULL, updated_at = $7 WHERE id = $1`,
          [holderId, dto.applicant.name.trim(), dto.applicant.mobile, dto.applicant.email, dto.publicationConsent ?? false, userCodeHash, now],
        );
      } else {
        await manager.query(
          `INSERT INTO holder (id, holder_number, name, national_id_ciphertext, national_id_hmac, national_id_last4, date_of_birth,
                               mobile, contact_email, publication_consent, user_code_hash, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
          [
            holderId,
            holderNumber,
            dto.applicant.name.trim(),
            this.vault.encrypt(nationalId, holderId),
            hmac,
            nationalId.slice(-4),
            dto.applicant.dateOfBirth,
            dto.applicant.mobile,
            dto.applicant.email,
            dto.publicationConsent ?? false,
            userCodeHash,
            now,
          ],
        );
      }
      const card: Array<{ id: string }> = await manager.query(
        `INSERT INTO card (holder_id, card_number, issued_at, cap_at) VALUES ($1, $2, $3, $4) RETURNING id`,
        [holderId, dto.cardNumber, issuedAt, lifetime.capEnd],
      );
      // DOMAIN.md: a new card replaces the old one; its certificates are revoked as superseded. Before
      // `complete`, which takes the shared-prime index's open row (one for the whole CA): waiting for the
      // old cards' rows while holding it would queue every RSA issuance behind this one.
      const superseded = await this.statusPublisher.supersedeOtherCards(manager, holderId, card[0].id, now);
      await this.issuance.complete(manager, recorded, issued, card[0].id, 'valid');
      await this.statusPublisher.announce(manager, recorded.map((r) => r.id));
      await enqueueNotice(manager, {
        kind: 'certificate-issued',
        holderId,
        certificateId: recorded[0].id,
        eventKey: `card-issued:${card[0].id}`,
        occurredAt: now,
      });
      const body: ApplicationResultDto = {
        holderNumber,
        cardNumber: dto.cardNumber,
        cardIssuedAt: issuedAt.toISOString(),
        cardCapAt: lifetime.capEnd.toISOString(),
        certificates: issuedCertificateViews(recorded, issued, 'valid'),
        chain: ca.chainPem,
      };
      await appendAudit(manager, {
        at: now,
        actorKind: principal.role,
        actorId: principal.staffId,
        officeId: principal.officeId,
        operation: 'application.issued',
        subjectKind: 'card',
        subjectId: dto.cardNumber,
        after: {
          holderNumber,
          cardNumber: dto.cardNumber,
          serials: issued.map((c) => c.serial.hex),
          feePaidNtd: dto.attestations.feePaidNtd,
          supersededSerials: superseded,
          newHolder: !existing,
        },
      });
      await this.idempotency.completeInTransaction(manager, ticket, 201, body, now);
      return body;
    })).catch((error: unknown) => {
      // Checked before signing, taken meanwhile by a concurrent application: a conflict, not a 500.
      const taken = uniqueViolation(error);
      if (!taken) throw error;
      if (taken === 'card_card_number_key') {
        throw new ProblemException('card-number-in-use', HttpStatus.CONFLICT, 'Card number in use', 'this card number was registered by another application meanwhile');
      }
      throw new ProblemException(
        'application-conflict',
        HttpStatus.CONFLICT,
        'Conflict',
        'another application for this person was completed while this one was being signed; nothing was issued: apply again',
      );
    });
    return result;
  }
}

/** The unique constraint a PostgreSQL unique violation (23505) names, from the error or its driver error. */
function uniqueViolation(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 3; depth++) {
    const { code, constraint } = current as { code?: unknown; constraint?: unknown };
    if (code === '23505') return typeof constraint === 'string' ? constraint : 'a unique key';
    current = (current as { driverError?: unknown }).driverError;
  }
  return undefined;
}

/** The CRL partition of a card's certificates: stable, spread evenly (issue 7). */
export function partitionOf(cardNumber: string, partitions: number): number {
  return createHash('sha256').update(cardNumber).digest().readUInt32BE(0) % partitions;
}

