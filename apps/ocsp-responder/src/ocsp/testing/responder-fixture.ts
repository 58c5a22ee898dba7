/**
 * An OcspResponder on the libs/pki test PKI with an in-memory repository
 * (tests only): certificates by serial, a switch to make the "database"
 * fail, and a clock the test moves.
 */
import { OID, OcspResponseBuilder, encodeCertId, serialIntegerContent, type OcspCertStatus } from '@moica/pki';
import { derExtension, derOctetString, derSequence, derTlv } from '../../../../../libs/pki/src/revocation/der-encoding';
import { createTestPki, type TestPki } from '../../../../../libs/pki/src/revocation/testing/test-pki';
import { LiveSigningBudget } from '../live-signing-budget';
import { OcspMetrics } from '../ocsp-metrics';
import { OcspResponder } from '../ocsp-responder';
import { OcspResponseCache } from '../ocsp-response-cache';
import type { CertificateWithResponse, OcspResponseRepository, StoredResponseRow } from '../ocsp-response.repository';
import type { OcspSigningIdentity } from '../ocsp-signing-identity';

export const CA_ID = '00000000-0000-4000-8000-00000000ca01';
export const HOUR = 3_600_000;

export class FakeRepository implements Pick<OcspResponseRepository, 'findBySerial' | 'page'> {
  readonly rows = new Map<string, CertificateWithResponse>();
  down = false;
  lookups = 0;

  async findBySerial(_caId: string, serial: Uint8Array): Promise<CertificateWithResponse | undefined> {
    this.lookups++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return this.rows.get(Buffer.from(serial).toString('hex'));
  }

  async page(): Promise<StoredResponseRow[]> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return [];
  }
}

export interface ResponderFixture {
  pki: TestPki;
  identity: OcspSigningIdentity;
  repository: FakeRepository;
  responder: OcspResponder;
  metrics: OcspMetrics;
  clock: { now: Date };
  /** A DER OCSPRequest for these serials (SHA-1 CertIDs unless said otherwise). */
  request(serials: bigint[], options?: { nonce?: Uint8Array; hash?: 'sha1' | 'sha256' }): Uint8Array;
  /** Stores a certificate row, with a pre-signed response when `presigned`. */
  store(serial: bigint, status: 'valid' | 'revoked' | 'suspended', presigned: boolean): Promise<void>;
}

export async function createResponderFixture(
  options: { liveSignaturesPerSecond?: number; maxCertIds?: number; budgetClock?: () => number; noticeWindowMs?: number; noticeExtensionMs?: () => number; readsAreCurrent?: () => boolean } = {},
): Promise<ResponderFixture> {
  const pki = await createTestPki();
  const identity: OcspSigningIdentity = {
    caId: CA_ID,
    caName: 'test-ca',
    issuer: pki.issuer,
    builder: new OcspResponseBuilder({ signer: pki.responderSigner, signerCertificateDer: pki.responderCertificateDer }),
    signer: pki.responderSigner,
  };
  const repository = new FakeRepository();
  const metrics = new OcspMetrics();
  const clock = { now: new Date('2026-03-01T00:00:00Z') };
  const responder = new OcspResponder({
    identities: [identity],
    cache: new OcspResponseCache(64 * 1024 * 1024),
    unknownCache: new OcspResponseCache(8 * 1024 * 1024),
    repository: repository as unknown as OcspResponseRepository,
    // A frozen budget clock by default: the bucket never refills, so tests count tokens exactly.
    budget: new LiveSigningBudget(options.liveSignaturesPerSecond ?? 1000, options.budgetClock ?? (() => 0)),
    metrics,
    now: () => clock.now,
    validityMs: 24 * HOUR,
    maxCertIds: options.maxCertIds ?? 8,
    noticeWindowMs: options.noticeWindowMs,
    noticeExtensionMs: options.noticeExtensionMs,
    readsAreCurrent: options.readsAreCurrent,
  });
  return {
    pki,
    identity,
    repository,
    responder,
    metrics,
    clock,
    request(serials, { nonce, hash = 'sha1' } = {}) {
      const list = serials.map((serial) => derSequence(encodeCertId(pki.issuer, hash, serial)));
      const extensions = nonce ? [derTlv(0xa2, derSequence(derExtension(OID.idPkixOcspNonce, false, derOctetString(nonce))))] : [];
      return derSequence(derSequence(derSequence(...list), ...extensions));
    },
    async store(serial, status, presigned) {
      const thisUpdate = clock.now;
      const nextUpdate = new Date(thisUpdate.getTime() + 24 * HOUR);
      const row: CertificateWithResponse = {
        id: `cert-${serial}`,
        status,
        not_after: new Date('2049-01-01T00:00:00Z'),
        revoked_at: status === 'valid' ? null : new Date('2026-02-10T08:30:00Z'),
        revocation_reason: status === 'valid' ? null : status === 'suspended' ? 6 : 1,
        der: null,
        this_update: null,
        next_update: null,
      };
      if (presigned) {
        const { encodeSingleResponse } = await import('@moica/pki');
        const certStatus: OcspCertStatus =
          status === 'valid' ? { status: 'good' } : { status: 'revoked', revokedAt: row.revoked_at!, reason: status === 'suspended' ? 'certificateHold' : 'keyCompromise' };
        const single = encodeSingleResponse({ certIdDer: encodeCertId(pki.issuer, 'sha1', serial), certStatus, thisUpdate, nextUpdate });
        row.der = Buffer.from(await identity.builder.build({ producedAt: thisUpdate, singleResponses: [single] }));
        row.this_update = thisUpdate;
        row.next_update = nextUpdate;
      }
      repository.rows.set(Buffer.from(serialIntegerContent(serial)).toString('hex'), row);
    },
  };
}
