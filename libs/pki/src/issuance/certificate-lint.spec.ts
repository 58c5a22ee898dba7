import { OID } from '../oids';
import { CertificateIssuer } from './certificate-issuer';
import { LintExpectations, lintCertificate, LintRule } from './certificate-lint';
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
import { randomPrime, rsaSpki, seededBytes } from './testing/key-fixtures';

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

const rdn = (oid: string, value: Uint8Array) => derSet(derSequence(derObjectIdentifier(oid), value));
const replaceExtension = (index: number, extension: Uint8Array) => extensions().map((e, i) => (i === index ? extension : e));

describe('lintCertificate', () => {
  it('passes a TBS built to the profile', () => {
    expect(lintCertificate(assembleTbsCertificate(parts()), expectations())).toEqual({ ok: true, failures: [] });
  });

  it.each<[string, () => Partial<TbsCertificateParts>, LintRule, Partial<LintExpectations>?]>([
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
  ])('fails %s', (_name, override, rule, expectationOverrides = {}) => {
    const result = lintCertificate(assembleTbsCertificate(parts(override())), expectations(expectationOverrides));
    expect(result.ok).toBe(false);
    expect(result.failures.map((failure) => failure.rule)).toContain(rule);
  });

  it('fails bytes that are not a TBSCertificate', () => {
    expect(lintCertificate(Uint8Array.of(0x30, 0x00), expectations())).toMatchObject({ ok: false, failures: [{ rule: 'tbs-decodes' }] });
  });
});
