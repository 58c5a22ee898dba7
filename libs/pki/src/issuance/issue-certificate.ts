/**
 * Step two of issuance (STYLE.md, the Boulder model): sign the linted
 * TBSCertificate once, check that the signed certificate contains exactly
 * the linted bytes, and make sure the signature was verified with the
 * issuer's public key before the certificate leaves this function (a faulty
 * HSM or signer must not release a bad certificate): here, unless the signer
 * checks its own signatures (Signer.checksItsSignatures).
 */
import { createPublicKey, KeyObject, verify } from 'node:crypto';
import { assembleSigned, splitSignedViews } from '../signing/signed-structure';
import { Signer } from '../signing/signer';
import { bytesEqual } from './der-writer';
import { IssuanceError } from './issuance-error';
import { PreparedCertificate } from './prepare-certificate';
import { preparedEntry } from './prepared-registry';
import { CertificateSerial } from './serial-number';

export interface IssuedCertificate {
  /** The certificate DER (RFC 5280 §4.1). */
  readonly der: Uint8Array;
  /** The same as PEM (RFC 7468 §5). */
  readonly pem: string;
  readonly serial: CertificateSerial;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The issuer's public key as a KeyObject, decoded once per issuer. */
const issuerKeys = new WeakMap<object, KeyObject>();

function issuerKey(issuer: PreparedCertificate['issuer']): KeyObject {
  let key = issuerKeys.get(issuer);
  if (!key) issuerKeys.set(issuer, (key = createPublicKey({ key: Buffer.from(issuer.publicKeySpki), format: 'der', type: 'spki' })));
  return key;
}

const HASH_OF = { sha256WithRSAEncryption: 'sha256', ecdsaWithSHA256: 'sha256', ecdsaWithSHA384: 'sha384' } as const;

/** Signs a prepared certificate with the issuer's key. Each prepared certificate is signed at most once. */
export async function issueCertificate(prepared: PreparedCertificate, signer: Signer): Promise<IssuedCertificate> {
  const entry = preparedEntry(prepared);
  if (!entry) throw new IssuanceError('not-prepared', 'only the result of prepareCertificate can be issued');
  if (entry.state !== 'prepared') throw new IssuanceError('already-issued', `serial ${prepared.serial.hex} was already signed`);
  if (!bytesEqual(prepared.tbsDer, entry.tbsDer)) throw new IssuanceError('tbs-modified', 'the TBS bytes changed after the lint');
  const issuer = prepared.issuer;
  if (!bytesEqual(signer.publicKeySpki, issuer.publicKeySpki) || signer.signatureAlgorithm !== issuer.signatureAlgorithm) {
    throw new IssuanceError('signer-mismatch', `${signer.keyLabel} is not the key of the issuer certificate`);
  }

  entry.state = 'signing';
  let der: Uint8Array;
  try {
    der = await assembleSigned(entry.tbsDer, signer);
  } catch (cause) {
    entry.state = 'prepared'; // no signature exists: the same TBS may be signed again
    throw cause;
  }
  entry.state = 'issued';

  const signed = splitSignedViews(der); // der is local until returned: views are enough
  if (!bytesEqual(signed.tbsDer, entry.tbsDer)) throw new IssuanceError('tbs-mismatch', `serial ${prepared.serial.hex}: signed TBS differs from the linted one`);
  if (!bytesEqual(signed.algorithmIdentifierDer, issuer.signatureAlgorithmDer)) {
    throw new IssuanceError('tbs-mismatch', 'outer signatureAlgorithm differs from the issuer algorithm (RFC 5280 §4.1.1.2)');
  }
  if (!signer.checksItsSignatures) verifySignature(prepared, signed);
  return {
    der,
    pem: toPem(der),
    serial: prepared.serial,
    notBefore: prepared.notBefore,
    notAfter: prepared.notAfter,
  };
}

/**
 * The signature checked with the issuer's public key, for a signer that does
 * not check its own (Signer.checksItsSignatures). A second verification of a
 * checked signature would cost ~20 µs per certificate for nothing (7 % of an
 * RSA-2048 signature on the Intel VM of docs/benchmarks.md).
 */
function verifySignature(prepared: PreparedCertificate, signed: ReturnType<typeof splitSignedViews>): void {
  const issuer = prepared.issuer;
  let valid = false;
  try {
    // The KeyObject itself, not { key, dsaEncoding }: an options object costs a third of an
    // RSA-2048 verification in key preparation. ECDSA signatures are DER, node's default.
    valid = verify(HASH_OF[issuer.signatureAlgorithm], signed.tbsDer, issuerKey(issuer), signed.signature);
  } catch (cause) {
    throw new IssuanceError('signature-invalid', `serial ${prepared.serial.hex}: cannot verify`, { cause });
  }
  if (!valid) throw new IssuanceError('signature-invalid', `serial ${prepared.serial.hex}: the signature does not verify under the issuer key`);
}

function toPem(der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
