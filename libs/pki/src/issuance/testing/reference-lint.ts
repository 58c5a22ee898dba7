/**
 * The lint as it was before it moved to the allocation-free cursor
 * (commit 75a8347): every element read into a node, every field copied out
 * into an object. Kept for tests only, as a second, independent reading of
 * the same rules: certificate-lint.spec.ts checks that both lints report
 * the same rules on valid and mutated TBSCertificates.
 */
import { OID } from '../../oids';
import { checkKeyAllowed } from '../allowed-key';
import { containsNationalId, LintExpectations, LintFailure, LintResult, LintRule } from '../certificate-lint';
import { keyIdentifier } from '../certificate-issuer';
import { CertificateProfile, KEY_USAGE_BITS, profileUrl } from '../certificate-profile';
import { children, childrenOf, content, DerNode, latin1, readNamedBits, readOid, readSingle, Tag } from '../der-reader';
import { bytesEqual, isPrintableString } from '../der-writer';
import { parseSubjectPublicKeyInfo, SubjectPublicKey } from '../public-key';
import { RawExtension, readTbsCertificateViews, TbsCertificateFields } from '../tbs-certificate-reader';

/** Critical extensions allowed in a holder certificate: keyUsage (RFC 5280 §4.2.1.3 SHOULD) and basicConstraints (§4.2.1.9 MAY). */
const ALLOWED_CRITICAL = new Set<string>([OID.keyUsage, OID.basicConstraints]);

/** The subject of DOMAIN.md: C, CN, serialNumber, one attribute per RDN, in this order. */
const SUBJECT_ATTRIBUTES = [OID.countryName, OID.commonName, OID.serialNumber].join();

const REQUIRED_EXTENSIONS = [
  OID.authorityKeyIdentifier,
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.certificatePolicies,
  OID.subjectDirectoryAttributes,
  OID.cRLDistributionPoints,
  OID.freshestCRL,
  OID.authorityInfoAccess,
];

/** The extensions a holder certificate has: the required ones, plus subjectAltName when an e-mail was asked for. */
const EXTENSIONS_WITHOUT_EMAIL: ReadonlySet<string> = new Set(REQUIRED_EXTENSIONS);
const EXTENSIONS_WITH_EMAIL: ReadonlySet<string> = new Set([...REQUIRED_EXTENSIONS, OID.subjectAltName]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Lints the DER of a TBSCertificate; every rule runs, all failures are reported. */
export function referenceLintCertificate(tbsDer: Uint8Array, expectations: LintExpectations): LintResult {
  const failures: LintFailure[] = [];
  const fail = (rule: LintRule, detail: string) => failures.push({ rule, detail });
  let tbs: TbsCertificateFields;
  try {
    tbs = readTbsCertificateViews(tbsDer);
  } catch (cause) {
    return { ok: false, failures: [{ rule: 'tbs-decodes', detail: (cause as Error).message }] };
  }
  const { profile, issuer } = expectations;
  const check = (rule: LintRule, body: () => string | undefined) => {
    try {
      const problem = body();
      if (problem) fail(rule, problem);
    } catch (cause) {
      fail(rule, `undecodable: ${(cause as Error).message}`);
    }
  };

  // RFC 5280 §4.1.2.1: extensions present, so v3.
  check('version-v3', () => (tbs.version === 2n ? undefined : `version ${tbs.version}`));
  // RFC 5280 §4.1.2.2: positive, at most 20 octets.
  check('serial-positive', () => (tbs.serialNumber > 0n ? undefined : 'serial number is not positive'));
  check('serial-length', () => (tbs.serialNumberOctets.length <= 20 ? undefined : `${tbs.serialNumberOctets.length} octets`));
  // RFC 5280 §4.1.2.3 and §4.1.2.4.
  check('signature-algorithm-matches-issuer', () =>
    bytesEqual(tbs.signatureAlgorithmDer, issuer.signatureAlgorithmDer) ? undefined : 'not the algorithm of the issuer key',
  );
  check('issuer-name-matches-issuer', () => (bytesEqual(tbs.issuerDer, issuer.subjectDer) ? undefined : 'issuer differs from the CA subject'));
  // RFC 5280 §4.1.2.5; DOMAIN.md hard cap of 8 years.
  check('validity-order', () => (tbs.notBefore < tbs.notAfter ? undefined : 'notBefore is not before notAfter'));
  check('validity-within-cap', () =>
    tbs.notAfter <= expectations.validityCap ? undefined : `notAfter ${tbs.notAfter.toISOString()} is after the cap ${expectations.validityCap.toISOString()}`,
  );
  check('validity-within-issuer', () => (tbs.notAfter <= issuer.notAfter ? undefined : 'notAfter is after the issuer certificate expires'));
  check('validity-time-encoding', () => {
    for (const [date, tag] of [
      [tbs.notBefore, tbs.notBeforeTag],
      [tbs.notAfter, tbs.notAfterTag],
    ] as const) {
      const expected = date.getUTCFullYear() < 2050 ? Tag.utcTime : Tag.generalizedTime;
      if (tag !== expected) return `${date.toISOString()} must be ${expected === Tag.utcTime ? 'UTCTime' : 'GeneralizedTime'}`;
    }
    return undefined;
  });

  checkSubject(tbs, profile, check);
  check('no-unique-identifiers', () => (tbs.hasUniqueIdentifiers ? 'issuer/subject unique identifiers (RFC 5280 §4.1.2.8)' : undefined));
  check('no-national-id', () => findNationalId(tbs));
  const expectedKey = expectations.subjectPublicKey;
  check('public-key-matches-request', () =>
    !expectedKey || bytesEqual(expectedKey.spki, tbs.subjectPublicKeyInfoDer) ? undefined : 'subjectPublicKeyInfo differs from the requested key',
  );
  // The requested key was decoded and checked already; decode only when it is not the same bytes.
  const parsedKey =
    expectedKey && bytesEqual(expectedKey.spki, tbs.subjectPublicKeyInfoDer)
      ? ({ ok: true, key: expectedKey } as const)
      : parseSubjectPublicKeyInfo(tbs.subjectPublicKeyInfoDer);
  check('public-key-allowed', () => {
    const parsed = parsedKey;
    if (!parsed.ok) return parsed.detail;
    if (parsed.key.kind === 'EC' && !profile.allowedCurves.includes(parsed.key.curve)) return `curve ${parsed.key.curve} not in the profile`;
    return checkKeyAllowed(parsed.key, profile.allowedRsaModulusBits)?.detail;
  });
  checkExtensions(tbs, expectations, check, parsedKey.ok ? parsedKey.key : undefined);
  return { ok: failures.length === 0, failures };
}

type Check = (rule: LintRule, body: () => string | undefined) => void;

function checkSubject(tbs: TbsCertificateFields, profile: CertificateProfile, check: Check): void {
  check('subject-attributes', () => {
    const oids = tbs.subject.map((rdn) => (rdn.length === 1 ? rdn[0].oid : 'multi-valued'));
    if (oids.join() !== SUBJECT_ATTRIBUTES) return `subject must be C, CN, serialNumber (one per RDN), found ${oids.join(', ')}`;
    const [country, , number] = tbs.subject.map((rdn) => latin1(rdn[0].value));
    if (country !== profile.country) return `countryName ${country}, expected ${profile.country}`;
    const cn = utf8.decode(tbs.subject[1][0].value);
    if (cn.trim().length === 0 || [...cn].length > 64) return 'commonName empty or longer than 64 characters (ub-common-name)';
    if (/\p{Cc}/u.test(cn)) return 'commonName has control characters';
    if (!/^[0-9]{16}$/.test(number)) return 'subject serialNumber is not a 16-digit holder number';
    return undefined;
  });
  check('subject-string-types', () => {
    for (const rdn of tbs.subject) {
      for (const attribute of rdn) {
        const wanted = attribute.oid === OID.commonName ? Tag.utf8String : Tag.printableString;
        if (attribute.tag !== wanted) return `${attribute.oid} is tagged 0x${attribute.tag.toString(16)}, expected 0x${wanted.toString(16)}`;
        if (wanted === Tag.printableString && !isPrintableString(latin1(attribute.value))) return `${attribute.oid} has non-PrintableString characters`;
        if (wanted === Tag.utf8String) utf8.decode(attribute.value);
      }
    }
    return undefined;
  });
}

/** The national ID must not appear in any string of the subject or the extensions (DOMAIN.md: only the last 4 digits). */
function findNationalId(tbs: TbsCertificateFields): string | undefined {
  const found =
    tbs.subject.some((rdn) => rdn.some((attribute) => containsNationalId(attribute.value))) ||
    tbs.extensions.some((extension) => containsNationalId(extension.value));
  return found ? 'a national ID number pattern appears in the subject or an extension' : undefined;
}

function checkExtensions(tbs: TbsCertificateFields, expectations: LintExpectations, check: Check, key: SubjectPublicKey | undefined): void {
  const { profile, issuer } = expectations;
  const byOid = new Map<string, RawExtension>();
  check('extensions-unique', () => {
    const duplicates = tbs.extensions.filter((extension) => byOid.has(extension.oid) || !byOid.set(extension.oid, extension));
    return duplicates.length ? `duplicated: ${duplicates.map((e) => e.oid).join(', ')} (RFC 5280 §4.2)` : undefined;
  });
  for (const extension of tbs.extensions) if (!byOid.has(extension.oid)) byOid.set(extension.oid, extension);
  const allowed = expectations.emailRequested ? EXTENSIONS_WITH_EMAIL : EXTENSIONS_WITHOUT_EMAIL;
  check('extensions-allowed', () => {
    const missing = [...allowed].filter((oid) => !byOid.has(oid));
    const extra = [...byOid.keys()].filter((oid) => !allowed.has(oid));
    if (missing.length || extra.length) return `missing [${missing.join(', ')}], not in the profile [${extra.join(', ')}]`;
    return undefined;
  });
  check('extensions-critical', () => {
    const wrong = tbs.extensions.filter((e) => (e.critical && !ALLOWED_CRITICAL.has(e.oid)) || e.explicitFalse);
    if (wrong.length) return `wrongly critical or with an encoded DEFAULT FALSE: ${wrong.map((e) => e.oid).join(', ')}`;
    if (byOid.get(OID.keyUsage) && !byOid.get(OID.keyUsage)!.critical) return 'keyUsage is not critical';
    return undefined;
  });
  const value = (oid: string) => {
    const extension = byOid.get(oid);
    return extension ? readSingle(extension.value) : undefined;
  };

  check('key-usage', () => {
    const node = value(OID.keyUsage);
    if (!node) return 'keyUsage missing';
    const bits = readNamedBits(node);
    if (!key) return 'public key undecodable';
    const wanted = new Set<number>(profile.keyUsage[expectations.kind][key.kind].map((name) => KEY_USAGE_BITS[name]));
    if (bits.size !== wanted.size || [...bits].some((bit) => !wanted.has(bit))) return `bits [${[...bits]}] differ from the ${expectations.kind} profile [${[...wanted]}]`;
    // RFC 5480 §3: no keyEncipherment/dataEncipherment for EC; RFC 3279 §2.3.1: no keyAgreement for RSA.
    if (key.kind === 'EC' && (bits.has(2) || bits.has(3))) return 'keyEncipherment/dataEncipherment on an EC key';
    if (key.kind === 'RSA' && bits.has(4)) return 'keyAgreement on an RSA key';
    if (bits.has(5) || bits.has(6)) return 'keyCertSign/cRLSign in a holder certificate';
    return undefined;
  });
  check('subject-key-identifier', () => {
    const node = value(OID.subjectKeyIdentifier);
    if (!node || node.tag !== Tag.octetString) return 'subjectKeyIdentifier missing (RFC 5280 §4.2.1.2)';
    return bytesEqual(content(node), keyIdentifier(tbs.subjectPublicKeyInfoDer)) ? undefined : 'not the method (1) identifier of the key';
  });
  check('authority-key-identifier', () => {
    const node = value(OID.authorityKeyIdentifier);
    if (!node) return 'authorityKeyIdentifier missing (RFC 5280 §4.2.1.1)';
    const keyId = childrenOf(node, Tag.sequence, 'AuthorityKeyIdentifier').find((child) => child.tag === 0x80);
    if (!keyId) return 'no keyIdentifier';
    return bytesEqual(content(keyId), issuer.subjectKeyIdentifier) ? undefined : 'keyIdentifier is not the issuer SKI';
  });
  check('certificate-policies', () => {
    const node = value(OID.certificatePolicies);
    if (!node) return 'certificatePolicies missing';
    const oids = childrenOf(node, Tag.sequence, 'certificatePolicies').map((info) => readOid(childrenOf(info, Tag.sequence, 'PolicyInformation')[0]));
    const missing = profile.policyOids.filter((oid) => !oids.includes(oid));
    if (new Set(oids).size !== oids.length) return 'a policy appears twice (RFC 5280 §4.2.1.4)';
    return missing.length ? `missing policies ${missing.join(', ')}` : undefined;
  });
  check('subject-directory-attributes', () => {
    const node = value(OID.subjectDirectoryAttributes);
    if (!node) return 'subjectDirectoryAttributes missing';
    const attributes = childrenOf(node, Tag.sequence, 'SubjectDirectoryAttributes');
    if (attributes.length !== 1) return `${attributes.length} attributes; only ${OID.moicaIdLast4Digits} is allowed`;
    const [type, values, ...extra] = childrenOf(attributes[0], Tag.sequence, 'Attribute');
    if (readOid(type) !== OID.moicaIdLast4Digits || extra.length) return `attribute ${readOid(type)} is not allowed`;
    const set = childrenOf(values, Tag.set, 'values');
    if (set.length !== 1 || set[0].tag !== Tag.printableString || !/^[0-9]{4}$/.test(latin1(content(set[0])))) {
      return 'the value must be exactly 4 digits (PrintableString)';
    }
    return undefined;
  });
  check('subject-alt-name', () => {
    const node = value(OID.subjectAltName);
    if (!node) return expectations.emailRequested ? 'rfc822Name requested but no subjectAltName' : undefined;
    if (!profile.allowEmailSan) return 'the profile does not allow an e-mail SAN';
    const names = children(node);
    if (names.length !== 1 || names[0].tag !== 0x81) return 'subjectAltName holds anything but one rfc822Name';
    return /^[^@\s]+@[^@\s]+$/.test(latin1(content(names[0]))) ? undefined : 'malformed rfc822Name';
  });
  check('crl-distribution-points', () =>
    expectUris(value(OID.cRLDistributionPoints), profileUrl(profile.crlUrlTemplate, profile, expectations.crlPartition), true),
  );
  check('freshest-crl', () => expectUris(value(OID.freshestCRL), profileUrl(profile.deltaCrlUrlTemplate, profile, expectations.crlPartition), true));
  check('authority-info-access', () => {
    const node = value(OID.authorityInfoAccess);
    if (!node) return 'authorityInfoAccess missing';
    const found = childrenOf(node, Tag.sequence, 'AuthorityInfoAccessSyntax').map((description) => {
      const [method, location] = childrenOf(description, Tag.sequence, 'AccessDescription');
      return `${readOid(method)} ${location.tag === 0x86 ? latin1(content(location)) : '?'}`;
    });
    const wanted = [`${OID.idAdOcsp} ${profileUrl(profile.ocspUrl, profile)}`, `${OID.idAdCaIssuers} ${profileUrl(profile.caIssuersUrl, profile)}`];
    return wanted.every((entry) => found.includes(entry)) && found.length === wanted.length ? undefined : `found ${found.join('; ')}`;
  });
}

/** A CRLDistributionPoints/FreshestCRL value with exactly one fullName URI (RFC 5280 §4.2.1.13). */
function expectUris(node: DerNode | undefined, url: string, required: boolean): string | undefined {
  if (!node) return required ? 'missing' : undefined;
  const points = childrenOf(node, Tag.sequence, 'CRLDistributionPoints');
  const uris = points.flatMap((point) => {
    const [name] = childrenOf(point, Tag.sequence, 'DistributionPoint');
    if (name?.tag !== 0xa0) return [];
    const [fullName] = children(name);
    if (fullName?.tag !== 0xa0) return [];
    return children(fullName)
      .filter((general) => general.tag === 0x86)
      .map((general) => latin1(content(general)));
  });
  return uris.length === 1 && uris[0] === url ? undefined : `expected ${url}, found [${uris.join(', ')}]`;
}
