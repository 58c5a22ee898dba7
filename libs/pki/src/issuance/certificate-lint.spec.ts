import { OID } from '../oids';
import { CertificateIssuer } from './certificate-issuer';
import { containsNationalId, LintExpectations, lintCertificate, LintRule, NATIONAL_ID } from './certificate-lint';
import { moicaProfile } from './certificate-profile';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  certificatePolicies,
  crlDistributionPoints,
  derExtension,
  emailSubjectAltName,
  freshestCrl,
  keyUsage,
  nationalIdLast4Attribute,
  subjectKeyIdentifier,
} from './certificate-extensions';
import { derObjectIdentifier, derOctetString, derPrintableString, derSequence, derSet, derTlv, derUtf8String } from './der-writer';
import { assembleTbsCertificate, holderSubjectName, TbsCertificateParts } from './tbs-certificate';
import { makeTestChain } from './testing/issuer-fixture';
import { referenceLintCertificate } from './testing/reference-lint';
import { randomPrime, rsaSpki, seededBytes } from './testing/key-fixtures';
import { children, encoding, readSingle } from './der-reader';
import { parseSubjectPublicKeyInfo } from './public-key';

const profile = moicaProfile({ caLabel: 'lint', baseUrl: 'http://moica.example.tw', crlPartitions: 16 });
const random = seededBytes('certificate-lint.spec');
const spki = rsaSpki(randomPrime(1024, random) * randomPrime(1024, random), 65537n);

let issuer: CertificateIssuer;
beforeAll(async () => {
  issuer = (await makeTestChain({ kind: 'EC', curve: 'P-256' })).issuer;
});

function expectations(overrides: Partial<LintExpectations> = {}): LintExpectations {
  return { profile, issuer, kind: 'signature', validityCap: new Date('2034-01-01T00:00:00Z'), crlPartition: 3, emailRequested: false, ...overrides };
}

function extensions(): Uint8Array[] {
  return [
    authorityKeyIdentifier(issuer),
    subjectKeyIdentifier(spki),
    keyUsage(['digitalSignature', 'nonRepudiation']),
    certificatePolicies(profile.policyOids),
    nationalIdLast4Attribute('1234'),
    crlDistributionPoints(profile, 3),
    freshestCrl(profile, 3),
    authorityInfoAccess(profile),
  ];
}

function parts(overrides: Partial<TbsCertificateParts> = {}): TbsCertificateParts {
  return {
    serialDer: Uint8Array.of(0x02, 0x02, 0x12, 0x34),
    signatureAlgorithmDer: issuer.signatureAlgorithmDer,
    issuerDer: issuer.subjectDer,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2030-12-31T23:59:59Z'),
    subjectDer: holderSubjectName('TW', '王小明', '0000000112831644'),
    subjectPublicKeyInfoDer: spki,
    extensions: extensions(),
    ...overrides,
  };
}

const parseSpki = (der: Uint8Array) => {
  const parsed = parseSubjectPublicKeyInfo(der);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.key;
};

/** The TBS content without its version [0] field. */
const withoutVersion = (tbs: Uint8Array) => {
  const fields = children(readSingle(tbs));
  return concat(fields.slice(1).map(encoding));
};

/** The TBS with an issuerUniqueID [1] after the subjectPublicKeyInfo. */
const withUniqueIdentifier = (tbs: Uint8Array) => {
  const fields = children(readSingle(tbs)).map(encoding);
  return derSequence(...fields.slice(0, 7), Uint8Array.of(0x81, 0x02, 0x00, 0x01), ...fields.slice(7));
};

const concat = (arrays: Uint8Array[]) => Uint8Array.from(Buffer.concat(arrays));

function replaceOctets(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(from));
  if (at < 0) throw new Error('not found');
  const out = bytes.slice();
  out.set(to, at);
  return out;
}

/** An Extension with critical encoded as FALSE (DER omits DEFAULT values). */
const explicitFalse = (extension: Uint8Array) => {
  const [oid, value] = children(readSingle(extension)).map(encoding);
  return derSequence(oid, Uint8Array.of(0x01, 0x01, 0x00), value);
};

const rdn = (oid: string, value: Uint8Array) => derSet(derSequence(derObjectIdentifier(oid), value));
const replaceExtension = (index: number, extension: Uint8Array) => extensions().map((e, i) => (i === index ? extension : e));

/** The rules each lint reports, in order: the cursor lint and the node-tree lint it replaced must agree. */
const rulesOf = (tbs: Uint8Array, lintExpectations: LintExpectations) => ({
  cursor: lintCertificate(tbs, lintExpectations).failures.map((failure) => failure.rule),
  reference: referenceLintCertificate(tbs, lintExpectations).failures.map((failure) => failure.rule),
});

describe('lintCertificate', () => {
  it('passes a TBS built to the profile', () => {
    expect(lintCertificate(assembleTbsCertificate(parts()), expectations())).toEqual({ ok: true, failures: [] });
  });

  const failingCases: [string, () => Partial<TbsCertificateParts>, LintRule, Partial<LintExpectations>?][] = [
    ['a negative serial', () => ({ serialDer: Uint8Array.of(0x02, 0x01, 0x80) }), 'serial-positive'],
    ['a zero serial', () => ({ serialDer: Uint8Array.of(0x02, 0x01, 0x00) }), 'serial-positive'],
    ['a 21-octet serial', () => ({ serialDer: Uint8Array.of(0x02, 21, ...new Array(21).fill(0x11)) }), 'serial-length'],
    ['another issuer name', () => ({ issuerDer: holderSubjectName('TW', 'x', '0000000000000000') }), 'issuer-name-matches-issuer'],
    ['an RSA signature algorithm under an EC issuer', () => ({ signatureAlgorithmDer: derSequence(derObjectIdentifier(OID.sha256WithRSAEncryption), Uint8Array.of(5, 0)) }), 'signature-algorithm-matches-issuer'],
    ['notBefore = notAfter', () => ({ notBefore: new Date('2030-12-31T23:59:59Z') }), 'validity-order'],
    ['notAfter one second past the cap', () => ({ notAfter: new Date('2034-01-01T00:00:01Z') }), 'validity-within-cap'],
    ['notAfter past the issuer', () => ({ notAfter: new Date('2043-06-01T00:00:00Z') }), 'validity-within-issuer', { validityCap: new Date('2050-01-01T00:00:00Z') }],
    ['CN as PrintableString', () => ({ subjectDer: derSequence(rdn(OID.countryName, derPrintableString('TW')), rdn(OID.commonName, derPrintableString('Wang')), rdn(OID.serialNumber, derPrintableString('0000000112831644'))) }), 'subject-string-types'],
    ['C as UTF8String', () => ({ subjectDer: derSequence(rdn(OID.countryName, derUtf8String('TW')), rdn(OID.commonName, derUtf8String('王')), rdn(OID.serialNumber, derPrintableString('0000000112831644'))) }), 'subject-string-types'],
    ['country JP', () => ({ subjectDer: holderSubjectName('JP', '王小明', '0000000112831644') }), 'subject-attributes'],
    ['a national ID as holder number', () => ({ subjectDer: derSequence(rdn(OID.countryName, derPrintableString('TW')), rdn(OID.commonName, derUtf8String('王')), rdn(OID.serialNumber, derPrintableString('A123456789'))) }), 'no-national-id'],
    ['a foreign-resident ID in the CN', () => ({ subjectDer: holderSubjectName('TW', 'AC01234567', '0000000112831644') }), 'no-national-id'],
    ['a national ID in the SAN', () => ({ extensions: [...extensions(), emailSubjectAltName('A223456789@example.tw')] }), 'no-national-id', { emailRequested: true }],
    ['a national ID in the directory attributes', () => ({ extensions: replaceExtension(4, derExtension(OID.subjectDirectoryAttributes, false, derSequence(derSequence(derObjectIdentifier(OID.moicaIdLast4Digits), derSet(derPrintableString('F131104093')))))) }), 'no-national-id'],
    ['a duplicated extension', () => ({ extensions: [...extensions(), certificatePolicies(profile.policyOids)] }), 'extensions-unique'],
    ['a critical certificatePolicies', () => ({ extensions: replaceExtension(3, derExtension(OID.certificatePolicies, true, derSequence(derSequence(derObjectIdentifier(OID.gpkiClass3Assurance))))) }), 'extensions-critical'],
    ['a non-critical keyUsage', () => ({ extensions: replaceExtension(2, derExtension(OID.keyUsage, false, Uint8Array.of(3, 2, 6, 0xc0))) }), 'extensions-critical'],
    ['an encryption keyUsage on a signature certificate', () => ({ extensions: replaceExtension(2, keyUsage(['keyEncipherment', 'dataEncipherment'])) }), 'key-usage'],
    ['no SKI', () => ({ extensions: extensions().filter((_, i) => i !== 1) }), 'subject-key-identifier'],
    ['an AKI of another key', () => ({ extensions: replaceExtension(0, derExtension(OID.authorityKeyIdentifier, false, derSequence(derTlv(0x80, new Uint8Array(20))))) }), 'authority-key-identifier'],
    ['a second directory attribute', () => ({ extensions: replaceExtension(4, derExtension(OID.subjectDirectoryAttributes, false, derSequence(derSequence(derObjectIdentifier(OID.moicaIdLast4Digits), derSet(derPrintableString('1234'))), derSequence(derObjectIdentifier('2.5.4.13'), derSet(derUtf8String('x')))))) }), 'subject-directory-attributes'],
    ['an unasked e-mail SAN', () => ({ extensions: [...extensions(), emailSubjectAltName('wang@example.tw')] }), 'extensions-allowed'],
    ['the CRL of another partition', () => ({ extensions: replaceExtension(5, crlDistributionPoints(profile, 4)) }), 'crl-distribution-points'],
    ['an unknown extension', () => ({ extensions: [...extensions(), derExtension('1.2.3.4', false, derOctetString(Uint8Array.of(1)))] }), 'extensions-allowed'],
    ['a v1 TBS (no version field)', () => ({}), 'version-v3'],
    ['a notAfter before 2050 as GeneralizedTime', () => ({ notAfter: new Date('2051-01-01T00:00:00Z') }), 'validity-time-encoding'],
    ['an issuer unique identifier', () => ({}), 'no-unique-identifiers'],
    ['a keyUsage with trailing zero bits', () => ({ extensions: replaceExtension(2, derExtension(OID.keyUsage, true, Uint8Array.of(3, 3, 6, 0xc0, 0x00))) }), 'key-usage'],
    ['a keyUsage with keyCertSign', () => ({ extensions: replaceExtension(2, keyUsage(['digitalSignature', 'nonRepudiation', 'keyCertSign'])) }), 'key-usage'],
    ['an explicit critical FALSE', () => ({ extensions: replaceExtension(3, explicitFalse(certificatePolicies(profile.policyOids))) }), 'extensions-critical'],
    ['a policy twice', () => ({ extensions: replaceExtension(3, certificatePolicies([...profile.policyOids, profile.policyOids[0]])) }), 'certificate-policies'],
    ['a three-digit directory attribute', () => ({ extensions: replaceExtension(4, derExtension(OID.subjectDirectoryAttributes, false, derSequence(derSequence(derObjectIdentifier(OID.moicaIdLast4Digits), derSet(derPrintableString('123')))))) }), 'subject-directory-attributes'],
    ['two CRL URIs', () => ({ extensions: replaceExtension(5, derExtension(OID.cRLDistributionPoints, false, derSequence(derSequence(derTlv(0xa0, derTlv(0xa0, derTlv(0x86, Buffer.from('http://a/')), derTlv(0x86, Buffer.from('http://b/')))))))) }), 'crl-distribution-points'],
    ['an AIA without caIssuers', () => ({ extensions: replaceExtension(7, derExtension(OID.authorityInfoAccess, false, derSequence(derSequence(derObjectIdentifier(OID.idAdOcsp), derTlv(0x86, Buffer.from('http://ocsp/')))))) }), 'authority-info-access'],
    ['a malformed e-mail SAN', () => ({ extensions: [...extensions(), derExtension(OID.subjectAltName, false, derSequence(derTlv(0x81, Buffer.from('no-at-sign'))))] }), 'subject-alt-name', { emailRequested: true }],
    ['a CN that is not UTF-8', () => ({ subjectDer: derSequence(rdn(OID.countryName, derPrintableString('TW')), rdn(OID.commonName, derTlv(0x0c, Uint8Array.of(0xc3, 0x28))), rdn(OID.serialNumber, derPrintableString('0000000112831644'))) }), 'subject-string-types'],
    ['a two-attribute RDN', () => ({ subjectDer: derSequence(derSet(derSequence(derObjectIdentifier(OID.countryName), derPrintableString('TW')), derSequence(derObjectIdentifier(OID.commonName), derUtf8String('王'))), rdn(OID.serialNumber, derPrintableString('0000000112831644'))) }), 'subject-attributes'],
    ['a key other than the requested one', () => ({}), 'public-key-matches-request', { subjectPublicKey: parseSpki(rsaSpki(randomPrime(1024, random) * randomPrime(1024, random), 65537n)) }],
  ];

  /** Cases whose broken part is not one of the parts: the TBS is edited after assembly. */
  const edited: Record<string, (tbs: Uint8Array) => Uint8Array> = {
    'a v1 TBS (no version field)': (tbs) => derSequence(withoutVersion(tbs)),
    'a notAfter before 2050 as GeneralizedTime': (tbs) => replaceOctets(tbs, Buffer.from('20510101000000Z'), Buffer.from('19510101000000Z')),
    'an issuer unique identifier': (tbs) => withUniqueIdentifier(tbs),
  };

  const buildCase = (name: string, override: () => Partial<TbsCertificateParts>) => (edited[name] ?? ((tbs: Uint8Array) => tbs))(assembleTbsCertificate(parts(override())));

  it.each(failingCases)('fails %s', (name, override, rule, expectationOverrides = {}) => {
    const result = lintCertificate(buildCase(name, override), expectations(expectationOverrides));
    expect(result.ok).toBe(false);
    expect(result.failures.map((failure) => failure.rule)).toContain(rule);
  });

  it.each(failingCases)('reports the same rules as the node-tree lint for %s', (name, override, _rule, expectationOverrides = {}) => {
    const { cursor, reference } = rulesOf(buildCase(name, override), expectations(expectationOverrides));
    expect(cursor).toEqual(reference);
  });

  it('reports the same rules as the node-tree lint on 4,000 TBSCertificates with octets flipped, inserted, removed or cut off', () => {
    const draw = seededBytes('certificate-lint.spec mutations');
    const bases = [
      [assembleTbsCertificate(parts()), expectations()],
      [assembleTbsCertificate(parts({ extensions: [...extensions(), emailSubjectAltName('wang@example.tw')] })), expectations({ emailRequested: true })],
      [assembleTbsCertificate(parts()), expectations({ subjectPublicKey: parseSpki(spki) })],
    ] as const;
    const seen = new Set<string>();
    for (let round = 0; round < 4000; round++) {
      const [base, lintExpectations] = bases[round % bases.length];
      const [kind, a, b, c, d] = draw(5);
      const at = ((a << 8) | b) % base.length;
      let tbs: Uint8Array;
      if (kind % 4 === 0) tbs = Uint8Array.from(base, (octet, i) => (i === at ? octet ^ (1 << (c % 8)) : octet));
      else if (kind % 4 === 1) tbs = Uint8Array.from(base, (octet, i) => (i === at ? d : octet));
      else if (kind % 4 === 2) tbs = Uint8Array.of(...base.subarray(0, at), d, ...base.subarray(at));
      else tbs = c % 2 ? Uint8Array.of(...base.subarray(0, at), ...base.subarray(at + 1)) : base.slice(0, at);
      const { cursor, reference } = rulesOf(tbs, lintExpectations);
      expect([round, cursor]).toEqual([round, reference]);
      seen.add(cursor.join());
    }
    // The mutations reach well past the decoding: many different rule sets come out.
    expect(seen.size).toBeGreaterThan(20);
  });

  it('fails bytes that are not a TBSCertificate', () => {
    expect(lintCertificate(Uint8Array.of(0x30, 0x00), expectations())).toMatchObject({ ok: false, failures: [{ rule: 'tbs-decodes' }] });
  });
});

describe('containsNationalId', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  // What the pattern sees when the octets are read as text: UTF-8 (leniently, as the
  // subject strings are) and ISO 8859-1 (as the extension values are).
  const asText = (octets: Uint8Array) => [new TextDecoder('utf-8').decode(octets), Buffer.from(octets).toString('latin1')];

  it.each<[string, Uint8Array, boolean]>([
    ['a national ID', utf8('A123456789'), true],
    ['a foreign-resident ID', utf8('AC01234567'), true],
    ['a foreign-resident ID with 8', utf8('A801234567'), true],
    ['one inside a Chinese name', utf8('王A123456789小明'), true],
    ['one at the end of an e-mail local part', utf8('x.F131104093@example.tw'), true],
    ['a lower-case letter', utf8('a123456789'), false],
    ['nine characters', utf8('A12345678'), false],
    ['E as the second letter', utf8('AE01234567'), false],
    ['a digit run split by a multi-byte character', utf8('A1234王56789'), false],
    ['a run split by a malformed UTF-8 octet', Uint8Array.of(0x41, 0x31, 0x32, 0x33, 0xc3, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x30), false],
    ['a run after a truncated UTF-8 sequence', Uint8Array.of(0xe7, 0x8e, 0x41, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39), true],
    ['the holder number', utf8('0000000112831644'), false],
    ['nothing', new Uint8Array(0), false],
  ])('%s: %s, as the pattern finds it in the decoded text', (_name, octets, expected) => {
    expect(containsNationalId(octets)).toBe(expected);
    for (const text of asText(octets)) expect(NATIONAL_ID.test(text)).toBe(expected);
  });

  it('agrees with the pattern on the decoded text of random octets near the pattern', () => {
    const random = seededBytes('containsNationalId');
    const alphabet = Uint8Array.from(Buffer.from('ABCDEZ0123456789a@.', 'latin1'));
    const alphabetWithHigh = Uint8Array.of(...alphabet, 0x80, 0xa0, 0xc3, 0xe7, 0xff);
    for (let round = 0; round < 3000; round++) {
      const draw = random(24);
      const pool = round % 2 ? alphabet : alphabetWithHigh;
      const octets = Uint8Array.from(draw.subarray(0, 4 + (draw[0] % 20)), (octet) => pool[octet % pool.length]);
      for (const text of asText(octets)) expect([round, containsNationalId(octets)]).toEqual([round, NATIONAL_ID.test(text)]);
    }
  });
});
