/**
 * A small PKI for the revocation tests: an RSA-2048 CA, a delegated P-256
 * OCSP responder and P-256 leaves, with fixed dates (tests never read the
 * clock). Test support only.
 */
import { SoftwareSigner } from '../../signing';
import { RevocationIssuer, revocationIssuerFromCertificate } from '../revocation-issuer';
import { keyIdentifierOf, makeTestCertificate, testName } from './test-certificates';

export const PARTITION_URI = 'http://crl.example.tw/moica/partition-7.crl';
export const DELTA_URI = 'http://crl.example.tw/moica/delta.crl';
/** Certificates are valid over all the fixed dates the tests use (UTCTime until 2049). */
export const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2049-12-31T23:59:59Z');

export interface TestPki {
  caSigner: SoftwareSigner;
  responderSigner: SoftwareSigner;
  caCertificateDer: Uint8Array;
  responderCertificateDer: Uint8Array;
  issuer: RevocationIssuer;
  /** Leaves by name, each with a distinct serial and the partition CRL's URI in its cRLDistributionPoints. */
  leaves: Record<'good' | 'revoked' | 'suspended' | 'unlisted', { serial: bigint; der: Uint8Array }>;
}

export async function createTestPki(): Promise<TestPki> {
  const caSigner = await SoftwareSigner.generate('software:test-ca', { kind: 'RSA', modulusBits: 2048 });
  const responderSigner = await SoftwareSigner.generate('software:test-ocsp', { kind: 'EC', curve: 'P-256' });
  const leafKey = await SoftwareSigner.generate('software:test-leaf', { kind: 'EC', curve: 'P-256' });
  const caCertificateDer = await makeTestCertificate({
    serial: 1n,
    commonName: 'MOICA Test Root',
    subjectPublicKeySpki: caSigner.publicKeySpki,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    role: 'ca',
    signer: caSigner,
  });
  const issuerRef = { nameDer: testName('MOICA Test Root'), keyIdentifier: keyIdentifierOf(caSigner.publicKeySpki) };
  const responderCertificateDer = await makeTestCertificate({
    serial: 2n,
    commonName: 'MOICA Test OCSP Responder',
    subjectPublicKeySpki: responderSigner.publicKeySpki,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    role: 'ocspResponder',
    issuer: issuerRef,
    signer: caSigner,
  });
  const leaf = async (serial: bigint, name: string) => ({
    serial,
    der: await makeTestCertificate({
      serial,
      commonName: name,
      subjectPublicKeySpki: leafKey.publicKeySpki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      role: 'leaf',
      issuer: issuerRef,
      signer: caSigner,
      crlDistributionPointUri: PARTITION_URI,
    }),
  });
  return {
    caSigner,
    responderSigner,
    caCertificateDer,
    responderCertificateDer,
    issuer: revocationIssuerFromCertificate(caCertificateDer),
    leaves: {
      good: await leaf(0x5a17c0ffee0001n, '王小明'),
      revoked: await leaf(0xd0c0ffee0002n, '陳大文'),
      suspended: await leaf(0x5a17c0ffee0003n, '林美麗'),
      unlisted: await leaf(0x5a17c0ffee0004n, '張志明'),
    },
  };
}
