import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { DataSource } from 'typeorm';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseCertificate } from '@moica/pki';
import { Clock, ProblemException } from '@moica/platform';

/** How long a challenge may be answered. */
export const CHALLENGE_SECONDS = 300;

export type ChallengePurpose = 'renewal' | 'add-email-to-certificate' | 'user-code-reset' | 'activation' | 'online-reissuance';

/** The card's signature certificate that answered a challenge. */
export interface CardSignatureProof {
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
 */
@Injectable()
export class CardSignatureService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async issueChallenge(cardNumber: string, purpose: ChallengePurpose): Promise<{ challengeId: string; challenge: string; expiresAt: string }> {
    const challenge = randomBytes(32);
    const expiresAt = new Date(this.clock.now().getTime() + CHALLENGE_SECONDS * 1000);
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO holder_challenge (challenge, card_number, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [challenge, cardNumber, purpose, expiresAt, this.clock.now()],
    );
    return { challengeId: rows[0].id, challenge: challenge.toString('base64'), expiresAt: expiresAt.toISOString() };
  }

  /** Consumes the challenge (once) and checks the card's signature over it. */
  async verify(challengeId: string, signatureBase64: string, purpose: ChallengePurpose): Promise<CardSignatureProof> {
    const now = this.clock.now();
    const consumed: [Array<{ challenge: Buffer; card_number: string }>, number] = await this.dataSource.query(
      `UPDATE holder_challenge SET used_at = $3 WHERE id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
       RETURNING challenge, card_number`,
      [isUuid(challengeId) ? challengeId : '00000000-0000-0000-0000-000000000000', purpose, now],
    );
    const row = consumed[0][0];
    if (!row) throw refused('challenge-invalid', 'the challenge is unknown, expired, already used or for another operation');

    const certificates: Array<{ id: string; der: Buffer; holder_id: string }> = await this.dataSource.query(
      `SELECT c.id, c.der, k.holder_id FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.card_number = $1 AND c.kind = 'signature' AND c.der IS NOT NULL ORDER BY c.not_after DESC LIMIT 1`,
      [row.card_number],
    );
    const certificate = certificates[0];
    if (!certificate) throw refused('card-not-found', 'no signature certificate for this card');
    const signature = Buffer.from(signatureBase64, 'base64');
    const ok = looksLikeCms(signature)
      ? verifyCms(signature, row.challenge, certificate.der)
      : verifyBare(signature, row.challenge, certificate.der);
    if (!ok) throw refused('card-signature-invalid', "the signature does not verify with the card's signature certificate");
    return { cardNumber: row.card_number, certificateId: certificate.id, holderId: certificate.holder_id };
  }
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
