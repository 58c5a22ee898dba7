/**
 * Minimal certificates for the revocation tests (a CA, a delegated OCSP
 * responder, leaves), signed through the project's Signer. Test support
 * only: the real profile lives in libs/pki/src/issuance and libs/pki/src/ca.
 */
import { createHash } from 'node:crypto';
import { OID } from '../../oids';
import { Signer, algorithmIdentifierDer, assembleSigned } from '../../signing';
import {
  DER_TRUE,
  TAG,
  derExtension,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derTlv,
  derUnsignedBigint,
  ia5Bytes,
} from '../der-encoding';
import { subjectPublicKeyOf } from '../certificate-fields';
import { encodeX509Time } from '../x509-time';

export interface TestCertificateRequest {
  serial: bigint;
  commonName: string;
  /** SubjectPublicKeyInfo of the subject key. */
  subjectPublicKeySpki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  role: 'ca' | 'ocspResponder' | 'leaf';
  /** The issuing CA; absent for a self-signed CA. */
  issuer?: { nameDer: Uint8Array; keyIdentifier: Uint8Array };
  signer: Signer;
  crlDistributionPointUri?: string;
}

/** `C=TW, CN=<commonName>` (PrintableString, UTF8String). */
export function testName(commonName: string): Uint8Array {
  const rdn = (oid: string, tag: number, value: string) =>
    derTlv(0x31, derSequence(derObjectIdentifier(oid), derTlv(tag, new TextEncoder().encode(value))));
  return derSequence(rdn(OID.countryName, 0x13, 'TW'), rdn(OID.commonName, 0x0c, commonName));
}

/** SHA-1 of the key bits (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifierOf(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(subjectPublicKeyOf(spki)).digest());
}

/** Builds and signs a test certificate; returns its DER. */
export async function makeTestCertificate(request: TestCertificateRequest): Promise<Uint8Array> {
  const subjectName = testName(request.commonName);
  const issuerName = request.issuer?.nameDer ?? subjectName;
  const extensions: Uint8Array[] = [];
  if (request.role === 'ca') {
    extensions.push(derExtension(OID.basicConstraints, true, derSequence(DER_TRUE)));
    extensions.push(derExtension(OID.keyUsage, true, Uint8Array.of(TAG.bitString, 0x02, 0x01, 0x06))); // keyCertSign, cRLSign
  } else {
    extensions.push(derExtension(OID.keyUsage, true, Uint8Array.of(TAG.bitString, 0x02, 0x07, 0x80))); // digitalSignature
  }
  if (request.role === 'ocspResponder') {
    extensions.push(derExtension(OID.extKeyUsage, false, derSequence(derObjectIdentifier(OID.idKpOcspSigning))));
    extensions.push(derExtension(OID.idPkixOcspNocheck, false, Uint8Array.of(TAG.null, 0x00)));
  }
  extensions.push(derExtension(OID.subjectKeyIdentifier, false, derOctetString(keyIdentifierOf(request.subjectPublicKeySpki))));
  if (request.issuer) {
    extensions.push(derExtension(OID.authorityKeyIdentifier, false, derSequence(derTlv(0x80, request.issuer.keyIdentifier))));
  }
  if (request.crlDistributionPointUri) {
    const uri = derTlv(0x86, ia5Bytes(request.crlDistributionPointUri));
    extensions.push(derExtension(OID.cRLDistributionPoints, false, derSequence(derSequence(derTlv(0xa0, derTlv(0xa0, uri))))));
  }
  const tbs = derSequence(
    derTlv(0xa0, Uint8Array.of(TAG.integer, 0x01, 0x02)),
    derUnsignedBigint(request.serial),
    algorithmIdentifierDer(request.signer.signatureAlgorithm),
    issuerName,
    derSequence(encodeX509Time(request.notBefore), encodeX509Time(request.notAfter)),
    subjectName,
    request.subjectPublicKeySpki,
    derTlv(0xa3, derSequence(...extensions)),
  );
  return assembleSigned(tbs, request.signer);
}

/** PEM armour (RFC 7468). */
export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}
