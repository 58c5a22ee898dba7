/**
 * PKCS#10 certification requests (RFC 2986): decoding, the CA's key policy
 * and proof of possession. Card keys are generated on the card (DOMAIN.md,
 * "Eligibility and application"); the request's self-signature is the only
 * proof that the applicant's card holds the private key, so a request is
 * accepted only when it verifies under its own public key.
 *
 * The request's subject and requested extensions are kept for the record but
 * never copied into a certificate: the profile decides every field.
 */
import { createPublicKey, verify } from 'node:crypto';
import { OID } from '../oids';
import { checkKeyAllowed } from './allowed-key';
import { children, childrenOf, content, DerNode, encoding, readBitStringBytes, readInteger, readOid, readSingle, Tag } from './der-reader';
import { parseSubjectPublicKeyInfo, SubjectPublicKey } from './public-key';
import { CsrRejectionCode, KeyRejectionCode, reject, Rejection } from './rejection';

/** A decoded, signature-checked request. */
export interface CertificationRequest {
  /** The request's DER. */
  readonly der: Uint8Array;
  /** DER of the requested subject Name (informational only). */
  readonly requestedSubjectDer: Uint8Array;
  /** The key to certify; its DER SubjectPublicKeyInfo is `publicKey.spki`. */
  readonly publicKey: SubjectPublicKey;
  /** OID of the algorithm the request was signed with. */
  readonly signatureAlgorithm: string;
  /** DER `Extensions` of a PKCS#9 extensionRequest attribute (RFC 2985 §5.4.2), when present; ignored by the profile. */
  readonly requestedExtensionsDer?: Uint8Array;
}

export type CertificationRequestResult =
  | { readonly ok: true; readonly csr: CertificationRequest }
  | Rejection<CsrRejectionCode | KeyRejectionCode>;

/** Request signature algorithms accepted, with their hash (RFC 4055 §5, RFC 5758 §3.2). SHA-1 is refused. */
const SIGNATURE_ALGORITHMS: Record<string, { key: 'RSA' | 'EC'; hash: string }> = {
  [OID.sha256WithRSAEncryption]: { key: 'RSA', hash: 'sha256' },
  [OID.sha384WithRSAEncryption]: { key: 'RSA', hash: 'sha384' },
  [OID.sha512WithRSAEncryption]: { key: 'RSA', hash: 'sha512' },
  [OID.ecdsaWithSHA256]: { key: 'EC', hash: 'sha256' },
  [OID.ecdsaWithSHA384]: { key: 'EC', hash: 'sha384' },
  [OID.ecdsaWithSHA512]: { key: 'EC', hash: 'sha512' },
};

const PEM = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/;

/**
 * Decodes a PKCS#10 request (DER bytes, or PEM as text or bytes), applies the
 * key policy and verifies the proof of possession. Never throws on bad input.
 */
export function parseCertificationRequest(
  input: Uint8Array | string,
  options: { allowedRsaModulusBits?: readonly number[] } = {},
): CertificationRequestResult {
  let der: Uint8Array;
  try {
    der = toDer(input);
  } catch (cause) {
    return reject('csr-malformed', (cause as Error).message);
  }

  let info: DerNode;
  let version: bigint;
  let subject: DerNode;
  let spki: DerNode;
  let attributes: DerNode | undefined;
  let signatureAlgorithm: string;
  let signatureParameters: DerNode | undefined;
  let signature: Uint8Array;
  try {
    const [infoNode, algorithmNode, signatureNode, ...extra] = childrenOf(readSingle(der), Tag.sequence, 'CertificationRequest');
    if (!signatureNode || extra.length) throw new RangeError('CertificationRequest has three fields');
    info = infoNode;
    const fields = childrenOf(info, Tag.sequence, 'CertificationRequestInfo');
    if (fields.length !== 4 && fields.length !== 3) throw new RangeError('CertificationRequestInfo has four fields');
    [, subject, spki, attributes] = fields;
    version = readInteger(fields[0]);
    childrenOf(subject, Tag.sequence, 'subject Name');
    // attributes [0] IMPLICIT SET OF Attribute (RFC 2986 §4.1); some encoders omit an empty one.
    if (attributes && attributes.tag !== 0xa0) throw new RangeError('attributes must be [0]');
    const [algorithmOid, parameters, ...more] = childrenOf(algorithmNode, Tag.sequence, 'signatureAlgorithm');
    if (more.length) throw new RangeError('AlgorithmIdentifier has at most two fields');
    signatureAlgorithm = readOid(algorithmOid);
    signatureParameters = parameters;
    signature = readBitStringBytes(signatureNode);
  } catch (cause) {
    return reject('csr-malformed', `not a PKCS#10 CertificationRequest: ${(cause as Error).message}`);
  }
  if (version !== 0n) return reject('csr-version-unsupported', `CertificationRequestInfo version ${version} (RFC 2986 §4.1 defines only v1 = 0)`);

  let requestedExtensionsDer: Uint8Array | undefined;
  try {
    requestedExtensionsDer = attributes ? findExtensionRequest(attributes) : undefined;
  } catch (cause) {
    return reject('csr-malformed', `attributes: ${(cause as Error).message}`);
  }

  const parsedKey = parseSubjectPublicKeyInfo(encoding(spki).slice());
  if (!parsedKey.ok) return parsedKey;
  const publicKey = parsedKey.key;
  const refused = checkKeyAllowed(publicKey, options.allowedRsaModulusBits);
  if (refused) return refused;

  if (signature.length === 0) return reject('csr-unsigned', 'the request carries an empty signature');
  const algorithm = SIGNATURE_ALGORITHMS[signatureAlgorithm];
  if (!algorithm) return reject('csr-signature-algorithm-not-allowed', `signature algorithm ${signatureAlgorithm} is not accepted`);
  if (algorithm.key !== publicKey.kind) {
    return reject('csr-signature-algorithm-not-allowed', `signature algorithm ${signatureAlgorithm} does not fit a ${publicKey.kind} key`);
  }
  // RFC 4055 §5: NULL (tolerated: absent) for RSA; RFC 5758 §3.2: absent for ECDSA.
  const parametersOk =
    algorithm.key === 'RSA'
      ? !signatureParameters || (signatureParameters.tag === Tag.null && content(signatureParameters).length === 0)
      : !signatureParameters;
  if (!parametersOk) return reject('csr-signature-algorithm-not-allowed', `unexpected parameters for ${signatureAlgorithm}`);

  let verified = false;
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey.spki), format: 'der', type: 'spki' });
    verified = verify(algorithm.hash, encoding(info), { key, dsaEncoding: 'der' }, signature);
  } catch {
    verified = false; // a signature OpenSSL cannot even decode is simply not valid
  }
  if (!verified) return reject('csr-signature-invalid', 'the signature does not verify under the requested key (no proof of possession)');

  return {
    ok: true,
    csr: {
      der,
      requestedSubjectDer: encoding(subject).slice(),
      publicKey,
      signatureAlgorithm,
      ...(requestedExtensionsDer ? { requestedExtensionsDer } : {}),
    },
  };
}

function toDer(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? new TextDecoder().decode(input) : undefined;
  if (text === undefined) return new Uint8Array(input as Uint8Array);
  const match = PEM.exec(text);
  if (!match) throw new RangeError('no "CERTIFICATE REQUEST" PEM block');
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}

function looksLikePem(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  return head.trimStart().startsWith('-----BEGIN');
}

function findExtensionRequest(attributes: DerNode): Uint8Array | undefined {
  for (const attribute of children(attributes)) {
    const [type, values] = childrenOf(attribute, Tag.sequence, 'Attribute');
    if (!values) throw new RangeError('Attribute without values');
    const set = childrenOf(values, Tag.set, 'Attribute values');
    if (readOid(type) === OID.extensionRequest && set.length === 1) return encoding(set[0]).slice();
  }
  return undefined;
}
