import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseCertificate } from '@moica/pki';
import { Clock, ProblemException } from '@moica/platform';
import type { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { ChallengePurpose, HolderChallengeRepository } from './holder-challenge.repository';

export type { ChallengePurpose } from './holder-challenge.repository';

/** How long a challenge may be answered. */
export const CHALLENGE_SECONDS = 300;

/** The card's signature certificate that answered a challenge, and the challenge, still to be used up (CardSignatureService.useUp). */
export interface CardSignatureProof {
  challengeId: string;
  cardNumber: string;
  certificateId: string;
  holderId: string;
}

/**
 * The holder's log-in with the card (issue 5): the server issues a one-time
 * challenge; the card signs it with its signature key; the server checks the
 * signature against the card's signature certificate. The signature may be
 * bare (PKCS#1 v1.5 or ECDSA over SHA-256) or, as Taiwan's card middleware
 * returns it, a CMS SignedData (RFC 5652) carrying the challenge (attached
 * or detached) and the signer's certificate.
 *
 * The signature is checked before the operation's transaction (CPU work, no
 * lock held); the challenge is used up inside it (useUp), so it is used
 * exactly when the operation commits: a request rolled back after a retry
 * took its Idempotency-Key claim over leaves it to the retry.
 */
@Injectable()
export class CardSignatureService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly challenges: HolderChallengeRepository,
  ) {}

  async issueChallenge(cardNumber: string, purpose: ChallengePurpose): Promise<{ challengeId: string; challenge: string; expiresAt: string }> {
    const challenge = randomBytes(32);
    const expiresAt = new Date(this.clock.now().getTime() + CHALLENGE_SECONDS * 1000);
    const id = await this.challenges.insert({ challenge, cardNumber, purpose, expiresAt, now: this.clock.now() });
    return { challengeId: id, challenge: challenge.toString('base64'), expiresAt: expiresAt.toISOString() };
  }

  /**
   * Checks the card's signature over an open challenge. Uses nothing up: the
   * caller passes the proof to useUp in the transaction of its change.
   */
  async verify(challengeId: string, signatureBase64: string, purpose: ChallengePurpose, ticket: IdempotencyTicket): Promise<CardSignatureProof> {
    const now = this.clock.now();
    const open = isUuid(challengeId) ? await this.challenges.findOpen(challengeId, purpose, ticket, now) : undefined;
    if (!open) throw challengeInvalid();

    const certificates: Array<{ id: string; der: Buffer; holder_id: string }> = await this.dataSource.query(
      `SELECT c.id, c.der, k.holder_id FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.card_number = $1 AND c.kind = 'signature' AND c.der IS NOT NULL ORDER BY c.not_after DESC LIMIT 1`,
      [open.cardNumber],
    );
    const certificate = certificates[0];
    if (!certificate) throw refused('card-not-found', 'no signature certificate for this card');
    const signature = Buffer.from(signatureBase64, 'base64');
    const ok = looksLikeCms(signature)
      ? verifyCms(signature, open.challenge, certificate.der)
      : verifyBare(signature, open.challenge, certificate.der);
    if (!ok) throw refused('card-signature-invalid', "the signature does not verify with the card's signature certificate");
    return { challengeId, cardNumber: open.cardNumber, certificateId: certificate.id, holderId: certificate.holder_id };
  }

  /**
   * Reserves the challenge for this Idempotency-Key before an operation signs
   * outside its final transaction (renewal), so that no request with another
   * key signs with it too; useUp in the final transaction still uses it.
   */
  async reserve(proof: CardSignatureProof, ticket: IdempotencyTicket): Promise<void> {
    if (!(await this.challenges.reserve(proof.challengeId, ticket, this.clock.now()))) throw challengeInvalid();
  }

  /**
   * Uses the challenge up in the operation's transaction (call it first, so
   * that a concurrent request with the same challenge waits on its row
   * before taking any other lock): 403 challenge-invalid when another
   * request used it. Rolled back with the transaction.
   */
  async useUp(manager: EntityManager, proof: CardSignatureProof, ticket: IdempotencyTicket): Promise<void> {
    if (!(await this.challenges.consume(manager, proof.challengeId, ticket, this.clock.now()))) throw challengeInvalid();
  }
}

function challengeInvalid(): ProblemException {
  return refused('challenge-invalid', 'the challenge is unknown, expired, already used or for another operation');
}

function verifyBare(signature: Buffer, data: Buffer, certificateDer: Buffer): boolean {
  const spki = parseCertificate(new Uint8Array(certificateDer)).subjectPublicKeyInfoDer;
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  try {
    if (key.asymmetricKeyType === 'ec') {
      // Cards and WebCrypto give r||s; CMS and OpenSSL give DER. Accept both.
      return verify('sha256', data, { key, dsaEncoding: signature[0] === 0x30 && signature.length !== 64 ? 'der' : 'ieee-p1363' }, signature);
    }
    return verify('sha256', data, key, signature);
  } catch {
    return false;
  }
}

function looksLikeCms(bytes: Buffer): boolean {
  // ContentInfo: SEQUENCE { OID 1.2.840.113549.1.7.2 (signedData) ... }
  return bytes.length > 20 && bytes[0] === 0x30 && bytes.includes(Buffer.from('06092a864886f70d010702', 'hex'));
}

/** RFC 5652 SignedData over the challenge, signed by the card's key; its certificate must be the card's. */
function verifyCms(bytes: Buffer, challenge: Buffer, certificateDer: Buffer): boolean {
  try {
    const contentInfo = pkijs.ContentInfo.fromBER(bytes);
    if (contentInfo.contentType !== pkijs.ContentInfo.SIGNED_DATA) return false;
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.signerInfos.length !== 1) return false;
    const signer = signedData.signerInfos[0];
    const attached = signedData.encapContentInfo.eContent?.valueBlock.valueHexView;
    if (attached && !Buffer.from(attached).equals(challenge)) return false;
    const carried = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    if (!carried.some((c) => Buffer.from(c.toSchema().toBER()).equals(certificateDer))) return false;
    // Signed attributes (messageDigest over the content), or a signature over the content itself.
    const spki = createPublicKey({ key: Buffer.from(parseCertificate(new Uint8Array(certificateDer)).subjectPublicKeyInfoDer), format: 'der', type: 'spki' });
    const signature = Buffer.from(signer.signature.valueBlock.valueHexView);
    if (signer.signedAttrs) {
      const digest = signer.signedAttrs.attributes.find((a) => a.type === '1.2.840.113549.1.9.4');
      const value = digest?.values[0] as asn1js.OctetString | undefined;
      if (!value || !Buffer.from(value.valueBlock.valueHexView).equals(createHash('sha256').update(challenge).digest())) return false;
      const signedAttrsDer = Buffer.from(signer.signedAttrs.encodedValue);
      signedAttrsDer[0] = 0x31; // DER of the SET OF, as signed (RFC 5652 §5.4)
      return verify('sha256', signedAttrsDer, spki.asymmetricKeyType === 'ec' ? { key: spki, dsaEncoding: 'der' } : spki, signature);
    }
    return verify('sha256', challenge, spki.asymmetricKeyType === 'ec' ? { key: spki, dsaEncoding: 'der' } : spki, signature);
  } catch {
    return false;
  }
}

function refused(code: string, detail: string): ProblemException {
  return new ProblemException(code, HttpStatus.FORBIDDEN, 'Card authentication failed', detail);
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
