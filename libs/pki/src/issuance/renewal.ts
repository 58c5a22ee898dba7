/**
 * Renewal (DOMAIN.md, 展期): a new certificate for the same key and holder
 * with a new validity, at most until `issuedAt + 8 years`. The window rules
 * (60 days before expiry to 3 years after) are the policy library's; this
 * builds the request from the certificate being renewed.
 */
import { OID } from '../oids';
import { CertificateKind } from './certificate-profile';
import { childrenOf, content, readNamedBits, readOid, readSingle, Tag } from './der-reader';
import { bytesEqual } from './der-writer';
import { IssuanceError } from './issuance-error';
import { IssuanceRequest } from './issuance-request';
import { CheckedPublicKey } from './key-quality';
import { readCertificate } from './tbs-certificate-reader';

/**
 * An {@link IssuanceRequest} renewing `previousCertificateDer`: same kind,
 * holder name and number, national ID excerpt and e-mail SAN; `publicKey`
 * must be the previous key, checked with checkRenewalKeyQuality.
 */
export function renewalRequest(
  previousCertificateDer: Uint8Array,
  publicKey: CheckedPublicKey,
  validity: { notBefore: Date; notAfter: Date; crlPartition: number },
): IssuanceRequest {
  let previous: ReturnType<typeof readCertificate>;
  try {
    previous = readCertificate(previousCertificateDer);
  } catch (cause) {
    throw new IssuanceError('renewal-mismatch', 'the certificate being renewed cannot be decoded', { cause });
  }
  if (!bytesEqual(previous.subjectPublicKeyInfoDer, publicKey.key.spki)) throw new IssuanceError('renewal-mismatch', 'a renewal keeps the public key');
  const decoder = new TextDecoder();
  const attribute = (oid: string) => {
    const found = previous.subject.flat().find((candidate) => candidate.oid === oid);
    if (!found) throw new IssuanceError('renewal-mismatch', `the certificate being renewed has no ${oid} in its subject`);
    return decoder.decode(found.value);
  };
  const extension = (oid: string) => previous.extensions.find((candidate) => candidate.oid === oid);

  const keyUsage = extension(OID.keyUsage);
  const bits = keyUsage ? readNamedBits(readSingle(keyUsage.value)) : new Set<number>();
  const kind: CertificateKind = bits.has(0) || bits.has(1) ? 'signature' : 'encryption';

  const directory = extension(OID.subjectDirectoryAttributes);
  let nationalIdLast4 = '';
  if (directory) {
    for (const item of childrenOf(readSingle(directory.value), Tag.sequence, 'SubjectDirectoryAttributes')) {
      const [type, values] = childrenOf(item, Tag.sequence, 'Attribute');
      if (readOid(type) === OID.moicaIdLast4Digits) nationalIdLast4 = decoder.decode(content(childrenOf(values, Tag.set, 'values')[0]));
    }
  }
  const san = extension(OID.subjectAltName);
  const email = san
    ? childrenOf(readSingle(san.value), Tag.sequence, 'GeneralNames')
        .filter((name) => name.tag === 0x81)
        .map((name) => decoder.decode(content(name)))[0]
    : undefined;

  return {
    kind,
    publicKey,
    holderName: attribute(OID.commonName),
    holderNumber: attribute(OID.serialNumber),
    nationalIdLast4,
    ...(email !== undefined ? { email } : {}),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    crlPartition: validity.crlPartition,
    renewalOf: previousCertificateDer,
  };
}
