/**
 * Step one of issuance (STYLE.md, the Boulder model): check the request
 * against the profile and the caps, build the TBSCertificate, lint it, and
 * hand back an opaque {@link PreparedCertificate}. Nothing is signed here;
 * {@link issueCertificate} signs exactly these bytes, once.
 */
import { createPublicKey, verify } from 'node:crypto';
import { splitSigned } from '../signing/signed-structure';
import { CertificateIssuer } from './certificate-issuer';
import { lintCertificate, LintResult } from './certificate-lint';
import { CertificateKind, CertificateProfile } from './certificate-profile';
import { bytesEqual } from './der-writer';
import { CertificateLintError, IssuanceError } from './issuance-error';
import { IssuanceRequest } from './issuance-request';
import { isCheckedPublicKey } from './key-quality';
import { registerPrepared } from './prepared-registry';
import { generateSerialNumber, RandomSource, CertificateSerial } from './serial-number';
import { buildTbsCertificate } from './tbs-certificate';
import { readCertificate } from './tbs-certificate-reader';

export interface PrepareOptions {
  /**
   * The hard cap: `issuedAt + 8 years` of the holder's card (DOMAIN.md,
   * "Hard cap"), computed by the policy library. notAfter may equal it.
   */
  readonly validityCap: Date;
  /** Random source for the serial number (tests inject one). */
  readonly randomBytes?: RandomSource;
}

/** A linted, not yet signed certificate. Only {@link prepareCertificate} makes one. */
export interface PreparedCertificate {
  /** The TBSCertificate DER that was linted and will be signed. Do not modify. */
  readonly tbsDer: Uint8Array;
  readonly serial: CertificateSerial;
  readonly lint: LintResult;
  readonly kind: CertificateKind;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeySpki: Uint8Array;
  readonly issuer: CertificateIssuer;
  readonly renewal: boolean;
}

const CONTROL_OR_LONE_SURROGATE = /\p{Cc}|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/**
 * Checks, builds and lints. Throws {@link IssuanceError} when the request
 * does not fit the profile or the caps, {@link CertificateLintError} when the
 * built certificate fails a lint rule.
 */
export function prepareCertificate(
  request: IssuanceRequest,
  profile: CertificateProfile,
  issuer: CertificateIssuer,
  options: PrepareOptions,
): PreparedCertificate {
  checkRequest(request, profile, issuer, options.validityCap);
  const serial = generateSerialNumber(options.randomBytes);
  const tbsDer = buildTbsCertificate(request, profile, issuer, serial);
  const lint = lintCertificate(tbsDer, {
    profile,
    issuer,
    kind: request.kind,
    validityCap: options.validityCap,
    crlPartition: request.crlPartition,
    emailRequested: request.email !== undefined,
    subjectPublicKey: request.publicKey.key,
  });
  if (!lint.ok) throw new CertificateLintError(lint.failures);
  const prepared: PreparedCertificate = Object.freeze({
    tbsDer,
    serial,
    lint,
    kind: request.kind,
    notBefore: new Date(request.notBefore.getTime()),
    notAfter: new Date(request.notAfter.getTime()),
    subjectPublicKeySpki: request.publicKey.key.spki,
    issuer,
    renewal: request.renewalOf !== undefined,
  });
  registerPrepared(prepared, tbsDer);
  return prepared;
}

function signedByIssuer(certificateDer: Uint8Array, issuer: CertificateIssuer): boolean {
  try {
    const { tbsDer, signature } = splitSigned(certificateDer);
    const hash = issuer.signatureAlgorithm === 'ecdsaWithSHA384' ? 'sha384' : 'sha256';
    const key = createPublicKey({ key: Buffer.from(issuer.publicKeySpki), format: 'der', type: 'spki' });
    return verify(hash, tbsDer, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

function checkRequest(request: IssuanceRequest, profile: CertificateProfile, issuer: CertificateIssuer, cap: Date): void {
  const refuse = (code: ConstructorParameters<typeof IssuanceError>[0], detail: string): never => {
    throw new IssuanceError(code, detail);
  };
  if (!isCheckedPublicKey(request.publicKey)) refuse('key-not-checked', 'the key must pass checkKeyQuality before a certificate is prepared');
  const key = request.publicKey.key;
  if (request.kind !== 'signature' && request.kind !== 'encryption') refuse('key-not-in-profile', `unknown certificate kind ${String(request.kind)}`);
  if (key.kind === 'RSA' && !profile.allowedRsaModulusBits.includes(key.modulusBits)) {
    refuse('key-not-in-profile', `RSA-${key.modulusBits} is not allowed by profile ${profile.name}`);
  }
  if (key.kind === 'EC' && !profile.allowedCurves.includes(key.curve)) refuse('key-not-in-profile', `${key.curve} is not allowed by profile ${profile.name}`);

  if (request.renewalOf) {
    if (request.publicKey.checkedFor !== 'renewal') refuse('key-check-mismatch', 'a renewal key is checked with checkRenewalKeyQuality');
    let previous: ReturnType<typeof readCertificate>;
    try {
      previous = readCertificate(request.renewalOf);
    } catch (cause) {
      throw new IssuanceError('renewal-mismatch', 'the certificate being renewed cannot be decoded', { cause });
    }
    // The renewal skips the known-key and shared-prime checks, so the certificate it
    // renews must really be this CA's: same issuer name, signature under this key.
    // (Renewing across CA keys is a new issuance as far as key checks go.)
    if (!bytesEqual(previous.issuerDer, issuer.subjectDer) || !signedByIssuer(request.renewalOf, issuer)) {
      refuse('renewal-mismatch', 'the certificate being renewed was not issued by this CA key');
    }
    // DOMAIN.md: the renewed certificate keeps the key (and the holder).
    if (!bytesEqual(previous.subjectPublicKeyInfoDer, key.spki)) refuse('renewal-mismatch', 'a renewal keeps the public key');
    const previousNumber = previous.subject.flat().find((attribute) => attribute.oid === '2.5.4.5');
    if (!previousNumber || new TextDecoder().decode(previousNumber.value) !== request.holderNumber) {
      refuse('renewal-mismatch', 'a renewal keeps the holder number');
    }
  } else if (request.publicKey.checkedFor !== 'new-key') {
    refuse('key-check-mismatch', 'a new certificate needs the full checkKeyQuality (known keys, shared primes)');
  }

  const name = request.holderName;
  if (typeof name !== 'string' || name.trim().length === 0 || [...name].length > 64 || CONTROL_OR_LONE_SURROGATE.test(name)) {
    refuse('holder-name-invalid', 'the name is 1 to 64 printable characters (ub-common-name, RFC 5280 Appendix A)');
  }
  if (!/^[0-9]{16}$/.test(request.holderNumber)) refuse('holder-number-invalid', 'the holder number is 16 digits');
  if (!/^[0-9]{4}$/.test(request.nationalIdLast4)) refuse('national-id-excerpt-invalid', 'exactly the last 4 digits of the national ID');
  if (request.email !== undefined) {
    if (!profile.allowEmailSan) refuse('email-not-allowed', `profile ${profile.name} issues no e-mail SAN`);
    // rfc822Name is an IA5String Mailbox (RFC 5280 §4.2.1.6); internationalised addresses are out of scope.
    if (request.email.length > 254 || !/^[\x21-\x3f\x41-\x7e]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(request.email)) {
      refuse('email-invalid', 'not an ASCII mailbox address');
    }
  }
  if (!Number.isInteger(request.crlPartition) || request.crlPartition < 0 || request.crlPartition >= profile.crlPartitions) {
    refuse('crl-partition-invalid', `partition ${request.crlPartition} is outside [0, ${profile.crlPartitions})`);
  }

  const notBefore = request.notBefore.getTime();
  const notAfter = request.notAfter.getTime();
  // RFC 5280 §4.1.2.5: times are encoded to the second; refusing fractions keeps what is signed what was asked.
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notBefore % 1000 !== 0 || notAfter % 1000 !== 0) {
    refuse('validity-invalid', 'notBefore and notAfter are whole seconds');
  }
  if (notBefore >= notAfter) refuse('validity-invalid', 'notBefore must be before notAfter');
  if (notAfter > cap.getTime()) refuse('validity-exceeds-cap', `notAfter is after the 8-year cap ${cap.toISOString()}`);
  if (notAfter > issuer.notAfter.getTime()) refuse('validity-exceeds-issuer', 'notAfter is after the issuing CA certificate expires');
}
