/**
 * The self-signed root CA certificate (RFC 5280 §3.2, §4.2.1.9, §4.2.1.3).
 */
import { Signer } from '../signing/signer';
import { basicConstraintsExtension, keyIdentifierFromSpki, keyUsageExtension, subjectKeyIdentifierExtension } from './extensions';
import { CaDistinguishedName, encodeDistinguishedName } from './name';
import { CertificateSerialNumber } from './serial-number';
import { SignedCertificate, signCertificate, signedCertificate } from './tbs-certificate';

export interface RootCaCertificateRequest {
  /** The root key; its public key is the certificate's subject key. */
  signer: Signer;
  subject: CaDistinguishedName;
  /** Given explicitly (the caller's clock or ceremony date), never "now" by default. */
  notBefore: Date;
  notAfter: Date;
  /** From randomSerialNumber() unless the ceremony fixes one. */
  serialNumber: CertificateSerialNumber;
  /** Omitted by default: the root does not limit the depth below it. */
  pathLenConstraint?: number;
}

/**
 * A self-signed root: basicConstraints cA critical, keyUsage keyCertSign and
 * cRLSign critical, subjectKeyIdentifier. No authorityKeyIdentifier: RFC 5280
 * §4.2.1.1 allows omitting it in a self-signed certificate, whose issuer is
 * identified by its subject.
 */
export async function buildRootCaCertificate(request: RootCaCertificateRequest): Promise<SignedCertificate> {
  const name = encodeDistinguishedName(request.subject);
  const der = await signCertificate(
    {
      serialNumber: request.serialNumber,
      issuerDer: name,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      subjectDer: name,
      subjectPublicKeyInfoDer: request.signer.publicKeySpki,
      extensions: [
        basicConstraintsExtension(true, request.pathLenConstraint),
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        subjectKeyIdentifierExtension(keyIdentifierFromSpki(request.signer.publicKeySpki)),
      ],
    },
    request.signer,
  );
  return signedCertificate(der, request.serialNumber);
}
