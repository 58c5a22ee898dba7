import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { cardLifetime, checkEmailAddress, decideHolderService, emailCertificateValidity, floorToSecond } from '@moica/policy';
import { checkRenewalKeyQuality, IssuanceError, renewalRequest } from '@moica/pki';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { CertificateIssuanceService } from '../certificates/certificate-issuance.service';
import { parseCardRequest } from '../certificates/card-request';
import { IssuingCaService } from '../certificates/issuing-ca.service';
import { notFound, pkiProblem, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository, LockedCertificate } from '../lifecycle/card-certificates.repository';
import { CertificateStatusPublisher } from '../lifecycle/certificate-status-publisher';
import { TransportNotificationChannels } from '../notifications/notification-channels';
import { NOTIFICATION_CHANNELS } from '../tokens';
import { CardSignatureProof, CardSignatureService } from './card-signature.service';
import { VERIFICATION_MINUTES, VerificationCodeRepository } from '../holder-services/verification-code.repository';


/**
 * DOMAIN.md: the e-mail address is not in the certificate by default; the
 * holder may ask online (card signature) to add it. The address is confirmed
 * by a code sent to it; then a new signature certificate with an rfc822Name
 * is issued for the same key, valid until the replaced one's notAfter, and
 * the replaced one is superseded.
 */
@Injectable()
export class EmailCertificateService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly certificates: CardCertificatesRepository,
    private readonly issuingCas: IssuingCaService,
    private readonly issuance: CertificateIssuanceService,
    private readonly publisher: CertificateStatusPublisher,
    private readonly idempotency: IdempotencyRepository,
    @Inject(NOTIFICATION_CHANNELS) private readonly channels: TransportNotificationChannels,
    private readonly verificationCodes: VerificationCodeRepository,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  /**
   * Uses up the card's challenge and records the code, its audit record and
   * the answer in one transaction (a request whose claim a retry took over records nothing and
   * leaves the challenge to the retry, so only one code is sent), then sends
   * the code.
   */
  async start(proof: CardSignatureProof, email: string, ticket: IdempotencyTicket): Promise<{ verificationId: string; expiresAt: string }> {
    const checked = checkEmailAddress(email);
    if (!checked.allowed) throw refusalProblem(checked);
    const current = await this.currentSignatureCertificate(proof.cardNumber);
    const decision = decideHolderService('add-email-to-certificate', current.facts, 'online-card-signature', this.clock.now());
    if (!decision.allowed) throw refusalProblem(decision);
    if (!this.channels.configured.email) {
      throw new ProblemException('verification-channel-unavailable', HttpStatus.SERVICE_UNAVAILABLE, 'Cannot send the code', 'e-mail is not configured on this CA');
    }
    const { result, code } = await this.dataSource.transaction(async (manager) => {
      await this.cardSignatures.useUp(manager, proof, ticket);
      const now = this.clock.now();
      const created = await this.verificationCodes.create(manager, {
        holderId: proof.holderId,
        purpose: 'add-email-to-certificate',
        value: checked.email,
        now,
      });
      const answer = { verificationId: created.id, expiresAt: created.expiresAt.toISOString() };
      // As for a contact change: the code sent is a state change of its own, audited with it (no address in the log).
      await appendAudit(manager, {
        at: now,
        actorKind: 'holder',
        actorId: proof.holderId,
        operation: 'holder.add-email-to-certificate',
        subjectKind: 'holder',
        subjectId: proof.holderId,
        after: { verificationId: created.id, pending: 'add-email-to-certificate', channel: 'online-card-signature', cardNumber: proof.cardNumber },
      });
      await this.idempotency.completeInTransaction(manager, ticket, 202, answer, now);
      return { result: answer, code: created.code };
    });
    await this.channels.sendEmail({
      to: checked.email,
      subject: '憑證加註電子郵件驗證碼 / Verification code',
      text: `【內政部憑證管理中心】驗證碼 ${code}，${VERIFICATION_MINUTES} 分鐘內有效。Your MOICA verification code is ${code}.`,
      idempotencyKey: result.verificationId,
    });
    return result;
  }

  async confirm(request: { verificationId: string; code: string; csr: string; ticket: IdempotencyTicket }): Promise<{ serial: string; notAfter: string; email: string; pem: string; superseded: string }> {
    const verified = await this.verificationCodes.check(request.verificationId, request.code, this.clock.now(), 'add-email-to-certificate');
    if (!verified.ok) throw new ProblemException(verified.code, HttpStatus.UNPROCESSABLE_ENTITY, 'Verification failed', verified.code);
    const cards: Array<{ card_number: string }> = await this.dataSource.query(
      `SELECT k.card_number FROM card k JOIN certificate c ON c.card_id = k.id
        WHERE k.holder_id = $1 AND c.kind = 'signature' AND c.status = 'valid' ORDER BY c.not_after DESC LIMIT 1`,
      [verified.holderId],
    );
    if (!cards[0]) throw notFound('certificate-not-found', 'the holder has no valid signature certificate');
    const cardNumber = cards[0].card_number;
    const now = floorToSecond(this.clock.now());
    const current = await this.currentSignatureCertificate(cardNumber);
    const validity = emailCertificateValidity(current.facts, now);
    if (!validity.allowed) throw refusalProblem(validity);
    const csr = parseCardRequest(request.csr, 'signature');
    const quality = checkRenewalKeyQuality(csr.publicKey);
    if (!quality.ok) throw pkiProblem(quality.code, quality.detail);
    const [{ der, crl_partition, ca_id }]: Array<{ der: Buffer; crl_partition: number; ca_id: string }> = await this.dataSource.query(
      `SELECT der, crl_partition, ca_id FROM certificate WHERE id = $1`,
      [current.id],
    );
    let order;
    try {
      const base = renewalRequest(new Uint8Array(der), quality.checked, {
        notBefore: validity.validity.notBefore,
        notAfter: validity.validity.notAfter,
        crlPartition: crl_partition,
      });
      order = { request: { ...base, email: verified.value } };
    } catch (error) {
      if (error instanceof IssuanceError) throw pkiProblem(error.code === 'renewal-mismatch' ? 'renewal-key-mismatch' : error.code, error.detail);
      throw error;
    }
    const ca = this.issuingCas.byId(ca_id);
    const prepared = [{ order, prepared: this.issuance.prepare(ca, order, cardLifetime(current.facts.cardIssuedAt).capLastSecond) }];
    const recorded = await this.issuance.record(ca, prepared);
    const [issued] = await this.issuance.sign(ca, recorded);

    return this.issuance.releaseOrAbandon(recorded, () => this.dataSource.transaction(async (manager) => {
      const locked = (await this.certificates.lockByCardNumber(manager, cardNumber)).find((c) => c.id === current.id);
      if (!locked || locked.status !== 'valid') {
        throw new ProblemException('certificate-state-changed', HttpStatus.CONFLICT, 'Conflict', 'the certificate changed; try again');
      }
      await this.issuance.complete(manager, recorded, [issued], locked.cardId, 'valid');
      await this.publisher.apply(manager, [locked], { to: 'revoked', reason: 'superseded', suspendedBy: null }, now, {
        kind: 'holder',
        id: verified.holderId,
        detail: { replacedBy: recorded[0].id, reason: 'e-mail added to the certificate' },
      });
      await this.publisher.announce(manager, [recorded[0].id]);
      await this.verificationCodes.markUsed(manager, request.verificationId, now);
      const result = { serial: issued.serial.hex, notAfter: issued.notAfter.toISOString(), email: verified.value, pem: issued.pem, superseded: locked.serial.toString('hex') };
      await appendAudit(manager, {
        at: now,
        actorKind: 'holder',
        actorId: verified.holderId,
        operation: 'certificate.add-email',
        subjectKind: 'card',
        subjectId: cardNumber,
        before: { serial: result.superseded },
        after: { serial: result.serial, email: 'added' },
      });
      await this.idempotency.completeInTransaction(manager, request.ticket, 201, result, now);
      return result;
    }));
  }

  private async currentSignatureCertificate(cardNumber: string): Promise<LockedCertificate> {
    const rows = await this.dataSource.transaction((manager) => this.certificates.lockByCardNumber(manager, cardNumber));
    const current = rows.filter((c) => c.kind === 'signature' && c.status !== 'revoked').sort((a, b) => b.facts.notAfter.getTime() - a.facts.notAfter.getTime())[0];
    if (!current) throw notFound('certificate-not-found', 'no live signature certificate on this card');
    return current;
  }
}
