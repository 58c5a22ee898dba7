/**
 * Reading a CA certificate back: the raw fields a child certificate must copy
 * byte for byte (issuer name, key identifier) and the facts that make it a CA
 * (RFC 5280 §4.2.1.9 basicConstraints, §4.2.1.3 keyCertSign).
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill
import * as x509 from '@peculiar/x509';
import { createPublicKey, verify } from 'node:crypto';
import { readDerHeader } from '../signing/der';
import { algorithmIdentifierDer, splitSigned } from '../signing/signed-structure';
import { SignatureAlgorithm } from '../signing/signer';
import { keyIdentifierFromSpki } from './extensions';

export interface ParsedCertificate {
  der: Uint8Array;
  tbsDer: Uint8Array;
  /** Lowercase hex of the serial number's content octets. */
  serialNumberHex: string;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  /** RFC 2253-style subject, for messages. */
  subjectText: string;
  subjectPublicKeyInfoDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA (false when the extension is absent). */
  isCa: boolean;
  pathLenConstraint: number | undefined;
  /** keyUsage bits present, or undefined when the extension is absent. */
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean; cRLSign: boolean } | undefined;
  /** The certificate's subjectKeyIdentifier, or the RFC 5280 §4.2.1.2 (1) hash when absent. */
  keyIdentifier: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm | undefined;
}

/** A certificate that is not what the caller needs (not a CA, wrong key, bad signature, expired...). */
export class CertificateRejected extends Error {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`certificate "${subject}" rejected: ${detail}`, options);
    this.name = 'CertificateRejected';
  }
}

/** Parses a DER certificate. Throws CertificateRejected when it is not one. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  let certificate: x509.X509Certificate;
  let parts: ReturnType<typeof splitSigned>;
  let fields: Uint8Array[];
  try {
    certificate = new x509.X509Certificate(Buffer.from(der));
    parts = splitSigned(der);
    fields = childrenOf(parts.tbsDer);
  } catch (cause) {
    throw new CertificateRejected('(unparsable)', 'not a DER X.509 certificate', { cause });
  }
  // TBSCertificate: [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  const offset = fields[0][0] === 0xa0 ? 1 : 0;
  const serial = fields[offset];
  const basicConstraints = certificate.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
  const subjectKeyIdentifier = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const spki = fields[offset + 5];
  const serialHeader = readDerHeader(serial);
  return {
    der: new Uint8Array(der),
    tbsDer: parts.tbsDer,
    serialNumberHex: Buffer.from(serial.subarray(serialHeader.contentStart)).toString('hex'),
    issuerDer: fields[offset + 2],
    subjectDer: fields[offset + 4],
    subjectText: certificate.subject,
    subjectPublicKeyInfoDer: spki,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    isCa: basicConstraints?.ca ?? false,
    pathLenConstraint: basicConstraints?.pathLength,
    keyUsage: keyUsage
      ? {
          digitalSignature: (keyUsage.usages & x509.KeyUsageFlags.digitalSignature) !== 0,
          keyCertSign: (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) !== 0,
          cRLSign: (keyUsage.usages & x509.KeyUsageFlags.cRLSign) !== 0,
        }
      : undefined,
    keyIdentifier: subjectKeyIdentifier
      ? new Uint8Array(Buffer.from(subjectKeyIdentifier.keyId, 'hex'))
      : keyIdentifierFromSpki(spki),
    signatureAlgorithm: signatureAlgorithmOf(parts.algorithmIdentifierDer),
  };
}

/**
 * Checks that `certificate` may issue certificates (RFC 5280 §4.2.1.9 and
 * §4.2.1.3: cA true, keyCertSign when keyUsage is present) and is valid at
 * `now`.
 */
export function assertCaCertificate(certificate: ParsedCertificate, now: Date): void {
  if (!certificate.isCa) throw new CertificateRejected(certificate.subjectText, 'basicConstraints cA is not true');
  if (certificate.keyUsage && !certificate.keyUsage.keyCertSign) {
    throw new CertificateRejected(certificate.subjectText, 'keyUsage lacks keyCertSign');
  }
  assertValidAt(certificate, now);
}

/** Checks that `now` lies within notBefore..notAfter (RFC 5280 §4.1.2.5, both inclusive). */
export function assertValidAt(certificate: ParsedCertificate, now: Date): void {
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw new CertificateRejected(certificate.subjectText, `not valid before ${certificate.notBefore.toISOString()}`);
  }
  if (now.getTime() > certificate.notAfter.getTime()) {
    throw new CertificateRejected(certificate.subjectText, `expired at ${certificate.notAfter.toISOString()}`);
  }
}

/**
 * True when the signed structure (certificate, CRL, CSR...) carries a valid
 * signature by the key in `issuerSpkiDer`, with an algorithm this CA accepts.
 */
export function isSignedBy(signedDer: Uint8Array, issuerSpkiDer: Uint8Array): boolean {
  const { tbsDer, algorithmIdentifierDer: algorithm, signature } = splitSigned(signedDer);
  const algorithmOid = readDerHeader(algorithm, readDerHeader(algorithm).contentStart);
  const oid = Buffer.from(algorithm.subarray(algorithmOid.contentStart, algorithmOid.end)).toString('hex');
  const accepted = VERIFIABLE_ALGORITHMS[oid];
  if (!accepted) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(issuerSpkiDer), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== accepted.keyType) return false;
    return verify(accepted.hash, tbsDer, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * Signature algorithms accepted from other issuers (an external parent CA),
 * by the hex content of their OID (RFC 4055 §5, RFC 5758 §3.2). PKCS#1 v1.5
 * and ECDSA with SHA-2 only.
 */
const VERIFIABLE_ALGORITHMS: Record<string, { hash: string; keyType: 'rsa' | 'ec' }> = {
  '2a864886f70d01010b': { hash: 'sha256', keyType: 'rsa' },
  '2a864886f70d01010c': { hash: 'sha384', keyType: 'rsa' },
  '2a864886f70d01010d': { hash: 'sha512', keyType: 'rsa' },
  '2a8648ce3d040302': { hash: 'sha256', keyType: 'ec' },
  '2a8648ce3d040303': { hash: 'sha384', keyType: 'ec' },
  '2a8648ce3d040304': { hash: 'sha512', keyType: 'ec' },
};

function signatureAlgorithmOf(algorithmDer: Uint8Array): SignatureAlgorithm | undefined {
  const candidates: SignatureAlgorithm[] = ['sha256WithRSAEncryption', 'ecdsaWithSHA256', 'ecdsaWithSHA384'];
  return candidates.find((candidate) => Buffer.from(algorithmIdentifierDer(candidate)).equals(Buffer.from(algorithmDer)));
}

function childrenOf(sequenceDer: Uint8Array): Uint8Array[] {
  const outer = readDerHeader(sequenceDer);
  const children: Uint8Array[] = [];
  for (let offset = outer.contentStart; offset < outer.end; ) {
    const { end } = readDerHeader(sequenceDer, offset);
    children.push(sequenceDer.slice(offset, end));
    offset = end;
  }
  return children;
}
