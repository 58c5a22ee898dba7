import { generateKeyPairSync } from 'node:crypto';
import * as pkijs from 'pkijs';
import { OID } from '../oids';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  certificatePolicies,
  crlDistributionPoints,
  emailSubjectAltName,
  freshestCrl,
  keyUsage,
  nationalIdLast4Attribute,
  profileKeyUsage,
  subjectKeyIdentifier,
} from './certificate-extensions';
import { CertificateIssuer } from './certificate-issuer';
import { CertificateKind, CertificateProfile, moicaProfile, profileUrl } from './certificate-profile';
import { parseCertificationRequest } from './certification-request';
import { IssuanceRequest } from './issuance-request';
import { issueCertificate } from './issue-certificate';
import { checkKeyQuality } from './key-quality';
import { prepareCertificate } from './prepare-certificate';
import { generateSerialNumber } from './serial-number';
import { ChunkedModulusProducts } from './shared-prime-index';
import { assembleTbsCertificate, buildTbsCertificate, holderSubjectName } from './tbs-certificate';
import { makeTestChain, TestChain } from './testing/issuer-fixture';
import { buildTestCsr, seededBytes } from './testing/key-fixtures';

const profiles = [
  moicaProfile({ caLabel: 'moica-a', baseUrl: 'http://a.moica.example.tw', crlPartitions: 64 }),
  moicaProfile({ caLabel: 'moica-b', baseUrl: 'http://b.moica.example.tw', crlPartitions: 8 }),
];
const random = seededBytes('tbs-certificate.spec');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

let chains: TestChain[];
let keys: IssuanceRequest['publicKey'][];
beforeAll(async () => {
  chains = [await makeTestChain(), await makeTestChain({ kind: 'EC', curve: 'P-256' })];
  keys = [];
  for (const privateKey of [generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey]) {
    const csr = parseCertificationRequest(buildTestCsr(privateKey));
    if (!csr.ok) throw new Error(csr.detail);
    const checked = await checkKeyQuality(csr.csr.publicKey, { isKnownPublicKey: async () => false, sharedPrimeIndex: new ChunkedModulusProducts() });
    if (!checked.ok) throw new Error(checked.detail);
    keys.push(checked.checked);
  }
});

function holderRequest(kind: CertificateKind, publicKey: IssuanceRequest['publicKey'], crlPartition: number, email?: string): IssuanceRequest {
  return {
    kind,
    publicKey,
    holderName: '王小明',
    holderNumber: '0000000112831644',
    nationalIdLast4: '6789',
    ...(email ? { email } : {}),
    notBefore: new Date('2026-12-01T00:00:00Z'),
    notAfter: new Date('2031-11-30T23:59:59Z'),
    crlPartition,
  };
}

/** The TBS as it was built before the issuer/profile parts were kept: every extension encoded afresh. */
function fromScratch(request: IssuanceRequest, profile: CertificateProfile, issuer: CertificateIssuer, serialDer: Uint8Array): Uint8Array {
  const key = request.publicKey.key;
  return assembleTbsCertificate({
    serialDer,
    signatureAlgorithmDer: issuer.signatureAlgorithmDer,
    issuerDer: issuer.subjectDer,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    subjectDer: holderSubjectName(profile.country, request.holderName, request.holderNumber),
    subjectPublicKeyInfoDer: key.spki,
    extensions: [
      authorityKeyIdentifier(issuer),
      subjectKeyIdentifier(key.spki),
      keyUsage(profileKeyUsage(profile, request.kind, key.kind)),
      certificatePolicies(profile.policyOids, profile.cpsUri),
      nationalIdLast4Attribute(request.nationalIdLast4),
      ...(request.email !== undefined ? [emailSubjectAltName(request.email)] : []),
      crlDistributionPoints(profile, request.crlPartition),
      freshestCrl(profile, request.crlPartition),
      authorityInfoAccess(profile),
    ],
  });
}

describe('buildTbsCertificate with the issuer and profile parts encoded once', () => {
  it('writes the same octets as encoding every part afresh, across issuers, profiles, kinds, keys, partitions and e-mail', () => {
    let compared = 0;
    // Interleaved, so each kept part is reused under every other combination before it is checked again.
    for (const partition of [0, 7, 3, 7, 0]) {
      for (const [p, profile] of profiles.entries()) {
        for (const chain of chains) {
          for (const key of keys) {
            for (const kind of ['signature', 'encryption'] as const) {
              for (const email of [undefined, 'wang@example.tw']) {
                const request = holderRequest(kind, key, partition % profile.crlPartitions, email);
                const serial = generateSerialNumber(random);
                const built = buildTbsCertificate(request, profile, chain.issuer, serial);
                expect([p, partition, kind, email, hex(built)]).toEqual([p, partition, kind, email, hex(fromScratch(request, profile, chain.issuer, serial.der))]);
                compared++;
              }
            }
          }
        }
      }
    }
    expect(compared).toBe(5 * 2 * 2 * 2 * 2 * 2);
  });

  it.each([0, 5, 7])('issues certificates that pkijs reads with the partition %i CRL and the profile extensions, in order', async (partition) => {
    for (const [p, profile] of profiles.entries()) {
      const chain = chains[p];
      const request = holderRequest('signature', keys[0], partition, 'wang@example.tw');
      const issued = await issueCertificate(prepareCertificate(request, profile, chain.issuer, { validityCap: new Date('2034-12-01T00:00:00Z') }), chain.issuingSigner);
      const certificate = pkijs.Certificate.fromBER(issued.der);
      expect(certificate.extensions!.map((extension) => extension.extnID)).toEqual([
        OID.authorityKeyIdentifier,
        OID.subjectKeyIdentifier,
        OID.keyUsage,
        OID.certificatePolicies,
        OID.subjectDirectoryAttributes,
        OID.subjectAltName,
        OID.cRLDistributionPoints,
        OID.freshestCRL,
        OID.authorityInfoAccess,
      ]);
      const uri = (oid: string) => {
        const points = certificate.extensions!.find((extension) => extension.extnID === oid)!.parsedValue as pkijs.CRLDistributionPoints;
        return (points.distributionPoints[0].distributionPoint as pkijs.GeneralName[])[0].value;
      };
      expect(uri(OID.cRLDistributionPoints)).toBe(profileUrl(profile.crlUrlTemplate, profile, partition));
      expect(uri(OID.freshestCRL)).toBe(profileUrl(profile.deltaCrlUrlTemplate, profile, partition));
      expect(Buffer.from(certificate.issuer.toSchema().toBER()).equals(Buffer.from(chain.issuer.subjectDer))).toBe(true);
      expect(uri(OID.cRLDistributionPoints)).toContain(profile === profiles[0] ? 'a.moica' : 'b.moica');
    }
  });
});
