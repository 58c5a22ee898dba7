/**
 * The lint every TBSCertificate passes before it is signed (STYLE.md, the
 * Boulder model: Prepare lints, Issue signs exactly what was linted). It
 * decodes the DER to be signed, independently of the builder, and checks it
 * against RFC 5280, RFC 5480 and the profile of DOMAIN.md. Any failure means
 * nothing is signed.
 */
import { OID } from '../oids';
import { checkKeyAllowed } from './allowed-key';
import { CertificateIssuer, keyIdentifier } from './certificate-issuer';
import { CertificateKind, CertificateProfile, KEY_USAGE_BITS, profileUrl } from './certificate-profile';
import { DerCursor, rangeEquals } from './der-cursor';
import { children, childrenOf, content, latin1, readOid, readOidAt, readSingle, readTimeAt, Tag } from './der-reader';
import { parseSubjectPublicKeyInfo, SubjectPublicKey } from './public-key';

/** The rules, one identifier each (stable: they appear in errors and audit records). */
export const LINT_RULES = [
  'tbs-decodes',
  'version-v3',
  'serial-positive',
  'serial-length',
  'signature-algorithm-matches-issuer',
  'issuer-name-matches-issuer',
  'validity-order',
  'validity-within-cap',
  'validity-within-issuer',
  'validity-time-encoding',
  'subject-attributes',
  'subject-string-types',
  'no-national-id',
  'no-unique-identifiers',
  'public-key-matches-request',
  'public-key-allowed',
  'extensions-unique',
  'extensions-allowed',
  'extensions-critical',
  'key-usage',
  'subject-key-identifier',
  'authority-key-identifier',
  'certificate-policies',
  'subject-directory-attributes',
  'subject-alt-name',
  'crl-distribution-points',
  'freshest-crl',
  'authority-info-access',
] as const;

export type LintRule = (typeof LINT_RULES)[number];

export interface LintFailure {
  readonly rule: LintRule;
  readonly detail: string;
}

export interface LintResult {
  readonly ok: boolean;
  readonly failures: readonly LintFailure[];
}

/** What the certificate must say, besides the profile: known to the CA, not read from the TBS. */
export interface LintExpectations {
  readonly profile: CertificateProfile;
  readonly issuer: CertificateIssuer;
  readonly kind: CertificateKind;
  /** The 8-year hard cap (DOMAIN.md): notAfter must not pass it. */
  readonly validityCap: Date;
  readonly crlPartition: number;
  /** Whether an rfc822Name SAN was asked for. */
  readonly emailRequested: boolean;
  /** The key that was requested (and checked): the certificate must carry exactly it. */
  readonly subjectPublicKey?: SubjectPublicKey;
}

/**
 * A national ID number: letter + 9 digits, or the foreign-resident form
 * (letter, A-D/8-9, 8 digits). DOMAIN.md. Both are runs of ten ASCII
 * characters: {@link containsNationalId} looks for them in the octets.
 */
export const NATIONAL_ID = /[A-Z][0-9]{9}|[A-Z][A-D8-9][0-9]{8}/;

/** Critical extensions allowed in a holder certificate: keyUsage (RFC 5280 §4.2.1.3 SHOULD) and basicConstraints (§4.2.1.9 MAY). */
const ALLOWED_CRITICAL = new Set<string>([OID.keyUsage, OID.basicConstraints]);

const REQUIRED_EXTENSIONS: readonly string[] = [
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
const EXTENSIONS_WITH_EMAIL_LIST: readonly string[] = [...REQUIRED_EXTENSIONS, OID.subjectAltName];

const utf8 = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/**
 * Where the fields of the TBSCertificate being linted lie in its DER:
 * offsets and cached OID strings, no copies and no object per element.
 * One per module, reused: the lint is synchronous and does not re-enter.
 */
class TbsLayout {
  bytes: Uint8Array = EMPTY;
  /** Content range of the version INTEGER; start -1 when the field is absent (v1). */
  versionStart = -1;
  versionEnd = -1;
  serialStart = 0;
  serialEnd = 0;
  signatureStart = 0;
  signatureEnd = 0;
  issuerStart = 0;
  issuerEnd = 0;
  notBefore = 0;
  notBeforeTag = 0;
  notAfter = 0;
  notAfterTag = 0;
  subjectStart = 0;
  subjectEnd = 0;
  spkiStart = 0;
  spkiEnd = 0;
  hasUniqueIdentifiers = false;
  /** Subject attributes in order: the RDN each belongs to, its type, its string tag and content range. */
  rdnCount = 0;
  attributeCount = 0;
  readonly attributeRdn: number[] = [];
  readonly attributeOid: string[] = [];
  readonly attributeTag: number[] = [];
  readonly attributeStart: number[] = [];
  readonly attributeEnd: number[] = [];
  /** Extensions in order: extnID, critical, whether FALSE was encoded, extnValue content range. */
  extensionCount = 0;
  readonly extensionOid: string[] = [];
  readonly extensionCritical: boolean[] = [];
  readonly extensionExplicitFalse: boolean[] = [];
  readonly extensionStart: number[] = [];
  readonly extensionEnd: number[] = [];
  /** Start of the attribute value last decoded as UTF-8 without error in this lint (-1: none), so it is decoded once. */
  validUtf8Start = -1;
  /** Whether the subjectPublicKeyInfo is the requested key, octet for octet, and the key as decoded. */
  spkiIsRequested = false;
  key: ReturnType<typeof parseSubjectPublicKeyInfo> | undefined;

  spki(): Uint8Array {
    return this.bytes.subarray(this.spkiStart, this.spkiEnd);
  }

  /** Index of the first extension with this extnID, or -1. */
  extension(oid: string): number {
    for (let i = 0; i < this.extensionCount; i++) if (this.extensionOid[i] === oid) return i;
    return -1;
  }
}

const layout = new TbsLayout();
const cursor = new DerCursor();

/** Reads the TBSCertificate structure (RFC 5280 §4.1) into {@link layout}; throws RangeError when it is not one. */
function readLayout(tbsDer: Uint8Array, t: TbsLayout): void {
  t.bytes = tbsDer;
  t.validUtf8Start = -1;
  const c = cursor.reset(tbsDer);
  c.single();
  c.enterTagged(Tag.sequence, 'TBSCertificate');
  c.next();
  t.versionStart = -1;
  if (c.tag === 0xa0) {
    const outer = c.enter();
    c.nextTagged(Tag.integer, 'INTEGER');
    checkMinimalInteger(c);
    t.versionStart = c.contentStart;
    t.versionEnd = c.end;
    if (!c.done) throw new RangeError('version [0] holds one INTEGER');
    c.leave(outer);
    c.next();
  }
  if (c.tag !== Tag.integer) throw new RangeError(`INTEGER: expected tag 0x2, found 0x${c.tag.toString(16)}`);
  checkMinimalInteger(c);
  t.serialStart = c.contentStart;
  t.serialEnd = c.end;
  nextField(c, Tag.sequence, 'signature');
  t.signatureStart = c.start;
  t.signatureEnd = c.end;
  nextField(c, Tag.sequence, 'issuer');
  t.issuerStart = c.start;
  t.issuerEnd = c.end;
  nextField(c, Tag.sequence, 'validity');
  let outer = c.enter();
  c.next();
  const notBeforeTag = c.tag;
  const notBeforeStart = c.contentStart;
  const notBeforeEnd = c.end;
  if (c.done) throw new RangeError('validity has notBefore and notAfter');
  c.next();
  if (!c.done) throw new RangeError('validity has notBefore and notAfter');
  t.notAfterTag = c.tag;
  t.notAfter = readTimeAt(tbsDer, c.tag, c.contentStart, c.end);
  t.notBeforeTag = notBeforeTag;
  t.notBefore = readTimeAt(tbsDer, notBeforeTag, notBeforeStart, notBeforeEnd);
  c.leave(outer);
  nextField(c, Tag.sequence, 'subject');
  t.subjectStart = c.start;
  t.subjectEnd = c.end;
  outer = c.enter();
  readSubject(c, t);
  c.leave(outer);
  nextField(c, Tag.sequence, 'subjectPublicKeyInfo');
  t.spkiStart = c.start;
  t.spkiEnd = c.end;
  t.hasUniqueIdentifiers = false;
  t.extensionCount = 0;
  while (!c.done) {
    const tag = c.next();
    if (tag === 0x81 || tag === 0xa1 || tag === 0x82 || tag === 0xa2) {
      t.hasUniqueIdentifiers = true;
    } else if (tag === 0xa3 && t.extensionCount === 0) {
      outer = c.enter();
      c.nextTagged(Tag.sequence, 'Extensions');
      if (!c.done) throw new RangeError('extensions [3] holds one SEQUENCE');
      const list = c.enter();
      readExtensions(c, t);
      c.leave(list);
      c.leave(outer);
      if (!c.done) throw new RangeError('unexpected fields at the end of TBSCertificate');
    } else {
      throw new RangeError('unexpected fields at the end of TBSCertificate');
    }
  }
}

function nextField(c: DerCursor, tag: number, what: string): void {
  if (c.done || c.next() !== tag) throw new RangeError(`TBSCertificate.${what} missing or mistyped`);
}

/** X.690 §8.3.2: an INTEGER's content is not empty and has no redundant leading octet. */
function checkMinimalInteger(c: DerCursor): void {
  const { bytes, contentStart, end } = c;
  if (end === contentStart) throw new RangeError('empty INTEGER');
  if (end - contentStart > 1) {
    const first = bytes[contentStart];
    const second = bytes[contentStart + 1];
    if ((first === 0 && (second & 0x80) === 0) || (first === 0xff && (second & 0x80) !== 0)) throw new RangeError('non-minimal INTEGER');
  }
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue), RFC 5280 §4.1.2.4. */
function readSubject(c: DerCursor, t: TbsLayout): void {
  t.rdnCount = 0;
  t.attributeCount = 0;
  while (!c.done) {
    c.next();
    const rdn = c.enterTagged(Tag.set, 'RelativeDistinguishedName');
    while (!c.done) {
      c.next();
      const atv = c.enterTagged(Tag.sequence, 'AttributeTypeAndValue');
      if (c.done) throw new RangeError('AttributeTypeAndValue has two fields');
      c.nextTagged(Tag.oid, 'OBJECT IDENTIFIER');
      const oid = readOidAt(c.bytes, c.contentStart, c.end);
      if (c.done) throw new RangeError('AttributeTypeAndValue has two fields');
      c.next();
      if (!c.done) throw new RangeError('AttributeTypeAndValue has two fields');
      const i = t.attributeCount++;
      t.attributeRdn[i] = t.rdnCount;
      t.attributeOid[i] = oid;
      t.attributeTag[i] = c.tag;
      t.attributeStart[i] = c.contentStart;
      t.attributeEnd[i] = c.end;
      c.leave(atv);
    }
    c.leave(rdn);
    t.rdnCount++;
  }
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
function readExtensions(c: DerCursor, t: TbsLayout): void {
  while (!c.done) {
    c.next();
    const extension = c.enterTagged(Tag.sequence, 'Extension');
    c.nextTagged(Tag.oid, 'OBJECT IDENTIFIER');
    const oid = readOidAt(c.bytes, c.contentStart, c.end);
    let critical = false;
    let explicitFalse = false;
    if (c.done) throw new RangeError(`extension ${oid}: extnValue`);
    c.next();
    if (c.tag === Tag.boolean) {
      if (c.end - c.contentStart !== 1 || (c.bytes[c.contentStart] !== 0 && c.bytes[c.contentStart] !== 0xff)) throw new RangeError('invalid DER BOOLEAN');
      critical = c.bytes[c.contentStart] === 0xff;
      explicitFalse = !critical;
      if (c.done) throw new RangeError(`extension ${oid}: extnValue`);
      c.next();
    }
    if (c.tag !== Tag.octetString || !c.done) throw new RangeError(`extension ${oid}: extnValue`);
    const i = t.extensionCount++;
    t.extensionOid[i] = oid;
    t.extensionCritical[i] = critical;
    t.extensionExplicitFalse[i] = explicitFalse;
    t.extensionStart[i] = c.contentStart;
    t.extensionEnd[i] = c.end;
    c.leave(extension);
  }
}

/** Lints the DER of a TBSCertificate; every rule runs, all failures are reported. */
export function lintCertificate(tbsDer: Uint8Array, expectations: LintExpectations): LintResult {
  try {
    readLayout(tbsDer, layout);
  } catch (cause) {
    return { ok: false, failures: [{ rule: 'tbs-decodes', detail: (cause as Error).message }] };
  }
  try {
    return runRules(tbsDer, expectations);
  } finally {
    // Keep no reference to the caller's buffer.
    layout.bytes = EMPTY;
    layout.key = undefined;
    cursor.reset(EMPTY);
  }
}

function runRules(tbsDer: Uint8Array, expectations: LintExpectations): LintResult {
  const expectedKey = expectations.subjectPublicKey;
  layout.spkiIsRequested = expectedKey !== undefined && rangeEquals(tbsDer, layout.spkiStart, layout.spkiEnd, expectedKey.spki);
  // The requested key was decoded and checked already; decode only when it is not the same bytes.
  layout.key = layout.spkiIsRequested ? { ok: true, key: expectedKey! } : parseSubjectPublicKeyInfo(layout.spki());
  let failures: LintFailure[] | undefined;
  for (let i = 0; i < RULES.length; i++) {
    let problem: string | undefined;
    try {
      problem = RULES[i][1](layout, expectations);
    } catch (cause) {
      problem = `undecodable: ${(cause as Error).message}`;
    }
    if (problem) (failures ??= []).push({ rule: RULES[i][0], detail: problem });
  }
  return failures ? { ok: false, failures } : { ok: true, failures: [] };
}


type RuleBody = (t: TbsLayout, expectations: LintExpectations) => string | undefined;

const versionBytes = (t: TbsLayout) => (t.versionStart < 0 ? undefined : t.bytes.subarray(t.versionStart, t.versionEnd));
const isoTime = (time: number) => new Date(time).toISOString();

/** The rules in the order they report, each reading the DER through {@link layout}. */
const RULES: readonly (readonly [LintRule, RuleBody])[] = [
  // RFC 5280 §4.1.2.1: extensions present, so v3.
  ['version-v3', (t) => (t.versionStart >= 0 && t.versionEnd - t.versionStart === 1 && t.bytes[t.versionStart] === 2 ? undefined : `version ${signedInteger(versionBytes(t))}`)],
  // RFC 5280 §4.1.2.2: positive, at most 20 octets (the INTEGER is minimal, so zero is the single octet 0x00).
  ['serial-positive', (t) => (t.bytes[t.serialStart] & 0x80 || (t.serialEnd - t.serialStart === 1 && t.bytes[t.serialStart] === 0) ? 'serial number is not positive' : undefined)],
  ['serial-length', (t) => (t.serialEnd - t.serialStart <= 20 ? undefined : `${t.serialEnd - t.serialStart} octets`)],
  // RFC 5280 §4.1.2.3 and §4.1.2.4.
  ['signature-algorithm-matches-issuer', (t, e) => (rangeEquals(t.bytes, t.signatureStart, t.signatureEnd, e.issuer.signatureAlgorithmDer) ? undefined : 'not the algorithm of the issuer key')],
  ['issuer-name-matches-issuer', (t, e) => (rangeEquals(t.bytes, t.issuerStart, t.issuerEnd, e.issuer.subjectDer) ? undefined : 'issuer differs from the CA subject')],
  // RFC 5280 §4.1.2.5; DOMAIN.md hard cap of 8 years.
  ['validity-order', (t) => (t.notBefore < t.notAfter ? undefined : 'notBefore is not before notAfter')],
  ['validity-within-cap', (t, e) => (t.notAfter <= e.validityCap.getTime() ? undefined : `notAfter ${isoTime(t.notAfter)} is after the cap ${e.validityCap.toISOString()}`)],
  ['validity-within-issuer', (t, e) => (t.notAfter <= e.issuer.notAfter.getTime() ? undefined : 'notAfter is after the issuer certificate expires')],
  ['validity-time-encoding', (t) => timeEncodingProblem(t.notBefore, t.notBeforeTag) ?? timeEncodingProblem(t.notAfter, t.notAfterTag)],
  ['subject-attributes', checkSubjectAttributes],
  ['subject-string-types', checkSubjectStringTypes],
  ['no-unique-identifiers', (t) => (t.hasUniqueIdentifiers ? 'issuer/subject unique identifiers (RFC 5280 §4.1.2.8)' : undefined)],
  ['no-national-id', findNationalId],
  ['public-key-matches-request', (t, e) => (!e.subjectPublicKey || t.spkiIsRequested ? undefined : 'subjectPublicKeyInfo differs from the requested key')],
  [
    'public-key-allowed',
    (t, { profile }) => {
      const parsed = t.key!;
      if (!parsed.ok) return parsed.detail;
      if (parsed.key.kind === 'EC' && !profile.allowedCurves.includes(parsed.key.curve)) return `curve ${parsed.key.curve} not in the profile`;
      return checkKeyAllowed(parsed.key, profile.allowedRsaModulusBits)?.detail;
    },
  ],
  ['extensions-unique', checkExtensionsUnique],
  ['extensions-allowed', checkExtensionsAllowed],
  ['extensions-critical', checkExtensionsCritical],
  ['key-usage', checkKeyUsage],
  ['subject-key-identifier', checkSubjectKeyIdentifier],
  ['authority-key-identifier', checkAuthorityKeyIdentifier],
  ['certificate-policies', checkCertificatePolicies],
  ['subject-directory-attributes', checkSubjectDirectoryAttributes],
  ['subject-alt-name', checkSubjectAltName],
  ['crl-distribution-points', (t, e) => checkDistributionPoint(t, OID.cRLDistributionPoints, profileUrl(e.profile.crlUrlTemplate, e.profile, e.crlPartition))],
  ['freshest-crl', (t, e) => checkDistributionPoint(t, OID.freshestCRL, profileUrl(e.profile.deltaCrlUrlTemplate, e.profile, e.crlPartition))],
  ['authority-info-access', checkAuthorityInfoAccess],
];

/** The value of a (minimal) INTEGER's content, for messages. */
function signedInteger(value: Uint8Array | undefined): bigint {
  if (!value) return 0n;
  let result = BigInt('0x' + Buffer.from(value).toString('hex'));
  if (value[0] & 0x80) result -= 1n << BigInt(value.length * 8);
  return result;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function timeEncodingProblem(time: number, tag: number): string | undefined {
  const expected = time < UTC_TIME_END ? Tag.utcTime : Tag.generalizedTime;
  return tag === expected ? undefined : `${isoTime(time)} must be ${expected === Tag.utcTime ? 'UTCTime' : 'GeneralizedTime'}`;
}

const UTC_TIME_END = Date.UTC(2050, 0, 1);

function checkSubjectAttributes(t: TbsLayout, { profile }: LintExpectations): string | undefined {
  const shaped =
    t.rdnCount === 3 &&
    t.attributeCount === 3 &&
    t.attributeOid[0] === OID.countryName &&
    t.attributeOid[1] === OID.commonName &&
    t.attributeOid[2] === OID.serialNumber;
  if (!shaped) {
    const oids: string[] = [];
    for (let rdn = 0, i = 0; rdn < t.rdnCount; rdn++) {
      let size = 0;
      while (i + size < t.attributeCount && t.attributeRdn[i + size] === rdn) size++;
      oids.push(size === 1 ? t.attributeOid[i] : 'multi-valued');
      i += size;
    }
    return `subject must be C, CN, serialNumber (one per RDN), found ${oids.join(', ')}`;
  }
  const { bytes } = t;
  if (!rangeIsText(bytes, t.attributeStart[0], t.attributeEnd[0], profile.country)) {
    return `countryName ${latin1(bytes.subarray(t.attributeStart[0], t.attributeEnd[0]))}, expected ${profile.country}`;
  }
  const cn = utf8.decode(bytes.subarray(t.attributeStart[1], t.attributeEnd[1]));
  t.validUtf8Start = t.attributeStart[1];
  if (cn.trim().length === 0 || [...cn].length > 64) return 'commonName empty or longer than 64 characters (ub-common-name)';
  if (/\p{Cc}/u.test(cn)) return 'commonName has control characters';
  if (t.attributeEnd[2] - t.attributeStart[2] !== 16 || !allDigits(bytes, t.attributeStart[2], t.attributeEnd[2])) return 'subject serialNumber is not a 16-digit holder number';
  return undefined;
}

function checkSubjectStringTypes(t: TbsLayout): string | undefined {
  for (let i = 0; i < t.attributeCount; i++) {
    const oid = t.attributeOid[i];
    const tag = t.attributeTag[i];
    const wanted = oid === OID.commonName ? Tag.utf8String : Tag.printableString;
    if (tag !== wanted) return `${oid} is tagged 0x${tag.toString(16)}, expected 0x${wanted.toString(16)}`;
    if (wanted === Tag.printableString && !isPrintableRange(t.bytes, t.attributeStart[i], t.attributeEnd[i])) return `${oid} has non-PrintableString characters`;
    if (wanted === Tag.utf8String && t.attributeStart[i] !== t.validUtf8Start) utf8.decode(t.bytes.subarray(t.attributeStart[i], t.attributeEnd[i]));
  }
  return undefined;
}

/** The national ID must not appear in any string of the subject or the extensions (DOMAIN.md: only the last 4 digits). */
function findNationalId(t: TbsLayout): string | undefined {
  let found = false;
  for (let i = 0; !found && i < t.attributeCount; i++) found = nationalIdIn(t.bytes, t.attributeStart[i], t.attributeEnd[i]);
  for (let i = 0; !found && i < t.extensionCount; i++) found = nationalIdIn(t.bytes, t.extensionStart[i], t.extensionEnd[i]);
  return found ? 'a national ID number pattern appears in the subject or an extension' : undefined;
}

function checkExtensionsUnique(t: TbsLayout): string | undefined {
  let duplicates: string[] | undefined;
  for (let i = 1; i < t.extensionCount; i++) {
    if (t.extensionOid.indexOf(t.extensionOid[i]) < i) (duplicates ??= []).push(t.extensionOid[i]);
  }
  return duplicates ? `duplicated: ${duplicates.join(', ')} (RFC 5280 §4.2)` : undefined;
}

function checkExtensionsAllowed(t: TbsLayout, { emailRequested }: LintExpectations): string | undefined {
  const allowed = emailRequested ? EXTENSIONS_WITH_EMAIL_LIST : REQUIRED_EXTENSIONS;
  let complete = true;
  for (const oid of allowed) complete &&= t.extension(oid) >= 0;
  for (let i = 0; complete && i < t.extensionCount; i++) complete = allowed.includes(t.extensionOid[i]);
  if (complete) return undefined;
  const present = new Set(t.extensionOid.slice(0, t.extensionCount));
  const missing = allowed.filter((oid) => !present.has(oid));
  const extra = [...present].filter((oid) => !allowed.includes(oid));
  return `missing [${missing.join(', ')}], not in the profile [${extra.join(', ')}]`;
}

function checkExtensionsCritical(t: TbsLayout): string | undefined {
  let wrong: string[] | undefined;
  for (let i = 0; i < t.extensionCount; i++) {
    if ((t.extensionCritical[i] && !ALLOWED_CRITICAL.has(t.extensionOid[i])) || t.extensionExplicitFalse[i]) (wrong ??= []).push(t.extensionOid[i]);
  }
  if (wrong) return `wrongly critical or with an encoded DEFAULT FALSE: ${wrong.join(', ')}`;
  const keyUsage = t.extension(OID.keyUsage);
  if (keyUsage >= 0 && !t.extensionCritical[keyUsage]) return 'keyUsage is not critical';
  return undefined;
}

/** Puts {@link cursor} on the single element an extension's extnValue holds; false when there is no such extension. */
function extensionValue(t: TbsLayout, oid: string): boolean {
  const i = t.extension(oid);
  if (i < 0) return false;
  cursor.reset(t.bytes, t.extensionStart[i], t.extensionEnd[i]).single();
  return true;
}

function checkKeyUsage(t: TbsLayout, { profile, kind }: LintExpectations): string | undefined {
  if (!extensionValue(t, OID.keyUsage)) return 'keyUsage missing';
  const bits = namedBits(cursor);
  const key = t.key?.ok ? t.key.key : undefined;
  if (!key) return 'public key undecodable';
  let wanted = 0;
  for (const name of profile.keyUsage[kind][key.kind]) wanted |= 1 << KEY_USAGE_BITS[name];
  if (bits !== wanted) {
    const list = (mask: number) => [...Array(32).keys()].filter((bit) => mask & (1 << bit));
    return `bits [${bits < 0 ? '...' : list(bits)}] differ from the ${kind} profile [${list(wanted)}]`;
  }
  // RFC 5480 §3: no keyEncipherment/dataEncipherment for EC; RFC 3279 §2.3.1: no keyAgreement for RSA.
  if (key.kind === 'EC' && bits & 0b1100) return 'keyEncipherment/dataEncipherment on an EC key';
  if (key.kind === 'RSA' && bits & 0b10000) return 'keyAgreement on an RSA key';
  if (bits & 0b1100000) return 'keyCertSign/cRLSign in a holder certificate';
  return undefined;
}

/**
 * A named BIT STRING in DER (X.690 §8.6, §11.2.2: unused bits zero, no
 * trailing zero bits) as a mask of bits 0-30 (bit 0 the most significant of
 * the first octet); -1 when a later bit is set, as no key usage is.
 */
function namedBits(c: DerCursor): number {
  if (c.tag !== Tag.bitString) throw new RangeError(`BIT STRING: expected tag 0x3, found 0x${c.tag.toString(16)}`);
  const { bytes, contentStart, end } = c;
  const length = end - contentStart;
  const unused = length > 0 ? bytes[contentStart] : 0;
  if (length === 0 || unused > 7 || (length === 1 && unused !== 0)) throw new RangeError('invalid BIT STRING');
  if (length === 1) return 0;
  const last = bytes[end - 1];
  if (last & ((1 << unused) - 1)) throw new RangeError('non-zero unused bits');
  if ((last & (1 << unused)) === 0) throw new RangeError('named BIT STRING with trailing zero bits');
  let mask = 0;
  for (let i = 1; i < length; i++) {
    const octet = bytes[contentStart + i];
    if (octet === 0) continue;
    if (i > 4 || (i === 4 && octet & 1)) return -1;
    for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >> bit)) mask |= 1 << ((i - 1) * 8 + bit);
  }
  return mask;
}

function checkSubjectKeyIdentifier(t: TbsLayout): string | undefined {
  if (!extensionValue(t, OID.subjectKeyIdentifier) || cursor.tag !== Tag.octetString) return 'subjectKeyIdentifier missing (RFC 5280 §4.2.1.2)';
  return cursor.contentEquals(keyIdentifierOf(t.bytes, t.spkiStart, t.spkiEnd)) ? undefined : 'not the method (1) identifier of the key';
}

/**
 * The method (1) key identifier of the SPKI at `bytes[start, end)`, computed
 * by the lint itself; the last one is kept with a copy of its SPKI, as one
 * holder key is often certified several times in a row (signature and
 * encryption certificates).
 */
function keyIdentifierOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (!lastKeyIdentifier || !rangeEquals(bytes, start, end, lastKeyIdentifier.spki)) {
    const spki = bytes.slice(start, end);
    lastKeyIdentifier = { spki, identifier: keyIdentifier(spki) };
  }
  return lastKeyIdentifier.identifier;
}

let lastKeyIdentifier: { readonly spki: Uint8Array; readonly identifier: Uint8Array } | undefined;

function checkAuthorityKeyIdentifier(t: TbsLayout, { issuer }: LintExpectations): string | undefined {
  if (!extensionValue(t, OID.authorityKeyIdentifier)) return 'authorityKeyIdentifier missing (RFC 5280 §4.2.1.1)';
  const outer = cursor.enterTagged(Tag.sequence, 'AuthorityKeyIdentifier');
  let found = false;
  let matches = false;
  while (!cursor.done) {
    if (cursor.next() === 0x80 && !found) {
      found = true;
      matches = cursor.contentEquals(issuer.subjectKeyIdentifier);
    }
  }
  cursor.leave(outer);
  if (!found) return 'no keyIdentifier';
  return matches ? undefined : 'keyIdentifier is not the issuer SKI';
}

/** The policy OIDs of the certificate being linted (reused). */
const policies: string[] = [];

function checkCertificatePolicies(t: TbsLayout, { profile }: LintExpectations): string | undefined {
  if (!extensionValue(t, OID.certificatePolicies)) return 'certificatePolicies missing';
  const outer = cursor.enterTagged(Tag.sequence, 'certificatePolicies');
  policies.length = 0;
  while (!cursor.done) {
    cursor.next();
    const information = cursor.enterTagged(Tag.sequence, 'PolicyInformation');
    cursor.nextTagged(Tag.oid, 'OBJECT IDENTIFIER');
    policies.push(readOidAt(cursor.bytes, cursor.contentStart, cursor.end));
    cursor.leave(information);
  }
  cursor.leave(outer);
  for (let i = 1; i < policies.length; i++) if (policies.indexOf(policies[i]) < i) return 'a policy appears twice (RFC 5280 §4.2.1.4)';
  const missing = profile.policyOids.filter((oid) => !policies.includes(oid));
  return missing.length ? `missing policies ${missing.join(', ')}` : undefined;
}

function checkSubjectDirectoryAttributes(t: TbsLayout): string | undefined {
  if (!extensionValue(t, OID.subjectDirectoryAttributes)) return 'subjectDirectoryAttributes missing';
  const c = cursor;
  c.enterTagged(Tag.sequence, 'SubjectDirectoryAttributes');
  let count = 0;
  while (!c.done) {
    c.next();
    count++;
  }
  if (count !== 1) return `${count} attributes; only ${OID.moicaIdLast4Digits} is allowed`;
  // The one attribute is the element last read.
  c.enterTagged(Tag.sequence, 'Attribute');
  c.nextTagged(Tag.oid, 'OBJECT IDENTIFIER');
  const type = readOidAt(c.bytes, c.contentStart, c.end);
  if (type !== OID.moicaIdLast4Digits) return `attribute ${type} is not allowed`;
  c.next();
  if (!c.done) return `attribute ${type} is not allowed`;
  c.enterTagged(Tag.set, 'values');
  let values = 0;
  let good = true;
  while (!c.done) {
    c.next();
    good &&= values++ === 0 && c.tag === Tag.printableString && c.end - c.contentStart === 4 && allDigits(c.bytes, c.contentStart, c.end);
  }
  return values === 1 && good ? undefined : 'the value must be exactly 4 digits (PrintableString)';
}

function checkSubjectAltName(t: TbsLayout, { profile, emailRequested }: LintExpectations): string | undefined {
  if (!extensionValue(t, OID.subjectAltName)) return emailRequested ? 'rfc822Name requested but no subjectAltName' : undefined;
  if (!profile.allowEmailSan) return 'the profile does not allow an e-mail SAN';
  cursor.enter();
  let names = 0;
  let rfc822 = false;
  let address = '';
  while (!cursor.done) {
    cursor.next();
    if (names++ === 0 && cursor.tag === 0x81) {
      rfc822 = true;
      address = latin1(cursor.content());
    }
  }
  if (names !== 1 || !rfc822) return 'subjectAltName holds anything but one rfc822Name';
  return /^[^@\s]+@[^@\s]+$/.test(address) ? undefined : 'malformed rfc822Name';
}

/** A CRLDistributionPoints/FreshestCRL value with exactly one fullName URI, `url` (RFC 5280 §4.2.1.13). */
function checkDistributionPoint(t: TbsLayout, oid: string, url: string): string | undefined {
  if (!extensionValue(t, oid)) return 'missing';
  const c = cursor;
  const list = c.enterTagged(Tag.sequence, 'CRLDistributionPoints');
  let uris = 0;
  let matches = false;
  while (!c.done) {
    c.next();
    const point = c.enterTagged(Tag.sequence, 'DistributionPoint');
    if (!c.done && c.next() === 0xa0) {
      const name = c.enter();
      if (!c.done && c.next() === 0xa0) {
        const fullName = c.enter();
        while (!c.done) if (c.next() === 0x86 && uris++ === 0) matches = c.contentIsText(url);
        c.leave(fullName);
      }
      c.leave(name);
    }
    c.leave(point);
  }
  c.leave(list);
  if (uris === 1 && matches) return undefined;
  return `expected ${url}, found [${distributionPointUris(t.bytes.subarray(t.extensionStart[t.extension(oid)], t.extensionEnd[t.extension(oid)])).join(', ')}]`;
}

/** Every fullName URI of a CRLDistributionPoints value (for a failure's message). */
function distributionPointUris(value: Uint8Array): string[] {
  return childrenOf(readSingle(value), Tag.sequence, 'CRLDistributionPoints').flatMap((point) => {
    const [name] = childrenOf(point, Tag.sequence, 'DistributionPoint');
    if (name?.tag !== 0xa0) return [];
    const [fullName] = children(name);
    if (fullName?.tag !== 0xa0) return [];
    return children(fullName)
      .filter((general) => general.tag === 0x86)
      .map((general) => latin1(content(general)));
  });
}

function checkAuthorityInfoAccess(t: TbsLayout, { profile }: LintExpectations): string | undefined {
  if (!extensionValue(t, OID.authorityInfoAccess)) return 'authorityInfoAccess missing';
  const c = cursor;
  const ocsp = profileUrl(profile.ocspUrl, profile);
  const caIssuers = profileUrl(profile.caIssuersUrl, profile);
  const list = c.enterTagged(Tag.sequence, 'AuthorityInfoAccessSyntax');
  let count = 0;
  let hasOcsp = false;
  let hasCaIssuers = false;
  while (!c.done) {
    c.next();
    const description = c.enterTagged(Tag.sequence, 'AccessDescription');
    c.nextTagged(Tag.oid, 'OBJECT IDENTIFIER');
    const method = readOidAt(c.bytes, c.contentStart, c.end);
    c.next();
    if (c.tag === 0x86) {
      if (method === OID.idAdOcsp && c.contentIsText(ocsp)) hasOcsp = true;
      if (method === OID.idAdCaIssuers && c.contentIsText(caIssuers)) hasCaIssuers = true;
    }
    c.leave(description);
    count++;
  }
  c.leave(list);
  if (count === 2 && hasOcsp && hasCaIssuers) return undefined;
  const value = t.bytes.subarray(t.extensionStart[t.extension(OID.authorityInfoAccess)], t.extensionEnd[t.extension(OID.authorityInfoAccess)]);
  const found = childrenOf(readSingle(value), Tag.sequence, 'AuthorityInfoAccessSyntax').map((description) => {
    const [method, location] = childrenOf(description, Tag.sequence, 'AccessDescription');
    return `${readOid(method)} ${location.tag === 0x86 ? latin1(content(location)) : '?'}`;
  });
  return `found ${found.join('; ')}`;
}

const isDigit = (octet: number) => octet >= 0x30 && octet <= 0x39;
const isUpper = (octet: number) => octet >= 0x41 && octet <= 0x5a;

function allDigits(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(bytes[i])) return false;
  return true;
}

function rangeIsText(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** PrintableString characters (X.680 §41.4): A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
const PRINTABLE = new Uint8Array(128);
for (const character of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?") PRINTABLE[character.charCodeAt(0)] = 1;

function isPrintableRange(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] >= 0x80 || !PRINTABLE[bytes[i]]) return false;
  return true;
}

/**
 * Whether {@link NATIONAL_ID} matches the octets read as text, without
 * decoding them. The pattern is ten ASCII characters; in UTF-8 (even
 * malformed, decoded leniently) and in ISO 8859-1 alike, ASCII characters
 * are exactly the octets below 0x80 and every other octet decodes to a
 * non-ASCII character, so ten consecutive ASCII characters in the text are
 * ten consecutive ASCII octets. The second character of the foreign-resident
 * form may be 8 or 9, which the first form already covers.
 */
export function containsNationalId(octets: Uint8Array): boolean {
  return nationalIdIn(octets, 0, octets.length);
}

function nationalIdIn(octets: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i + 10 <= end; i++) {
    if (!isUpper(octets[i])) continue;
    const second = octets[i + 1];
    if (!isDigit(second) && !(second >= 0x41 && second <= 0x44)) continue;
    let digits = 2;
    while (digits < 10 && isDigit(octets[i + digits])) digits++;
    if (digits === 10) return true;
  }
  return false;
}
