/**
 * A root + issuing CA chain for tests, built with the libs/pki/src/ca helpers
 * and software keys, with fixed dates (no clock).
 */
import { buildIssuingCaCertificate, buildRootCaCertificate } from '../../ca';
import { KeyAlgorithm } from '../../signing/signer';
import { SoftwareSigner } from '../../signing/software-signer';
import { CertificateIssuer, describeIssuer } from '../certificate-issuer';

export interface TestChain {
  readonly rootSigner: SoftwareSigner;
  readonly rootPem: string;
  readonly issuingSigner: SoftwareSigner;
  readonly issuingPem: string;
  readonly issuer: CertificateIssuer;
}

export const CHAIN_NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
export const CHAIN_NOT_AFTER = new Date('2044-01-01T00:00:00Z');

export async function makeTestChain(algorithm: KeyAlgorithm = { kind: 'RSA', modulusBits: 2048 }): Promise<TestChain> {
  const rootSigner = await SoftwareSigner.generate('software:test-root', algorithm);
  const issuingSigner = await SoftwareSigner.generate('software:test-issuing', algorithm);
  const root = await buildRootCaCertificate({
    signer: rootSigner,
    subject: [
      { type: 'C', value: 'TW' },
      { type: 'O', value: '測試政府' },
      { type: 'CN', value: 'Test Root CA' },
    ],
    notBefore: CHAIN_NOT_BEFORE,
    notAfter: CHAIN_NOT_AFTER,
    serialNumber: Uint8Array.of(0x01),
  });
  const issuing = await buildIssuingCaCertificate({
    issuer: { signer: rootSigner, certificateDer: root.der },
    subject: [
      { type: 'C', value: 'TW' },
      { type: 'O', value: '測試政府' },
      { type: 'CN', value: '測試自然人憑證管理中心' },
    ],
    subjectPublicKeyInfoDer: issuingSigner.publicKeySpki,
    notBefore: CHAIN_NOT_BEFORE,
    notAfter: new Date('2043-01-01T00:00:00Z'),
    serialNumber: Uint8Array.of(0x02),
  });
  return { rootSigner, rootPem: root.pem, issuingSigner, issuingPem: issuing.pem, issuer: describeIssuer(issuing.der) };
}
