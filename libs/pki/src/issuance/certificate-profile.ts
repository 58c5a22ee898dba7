/**
 * The certificate profile: every field of a holder certificate that is not
 * the holder's own data, configurable per CA. {@link moicaProfile} is the
 * default of DOMAIN.md ("The certificates (profile)").
 */
import { OID } from '../oids';

/** A card carries one certificate of each kind (DOMAIN.md, "Eligibility and application"). */
export type CertificateKind = 'signature' | 'encryption';

/** KeyUsage named bits (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** Key usages per certificate kind and key type. */
export type KeyUsagePolicy = Readonly<Record<CertificateKind, Readonly<Record<'RSA' | 'EC', readonly KeyUsageName[]>>>>;

export interface CertificateProfile {
  /** A name for logs and audit records, e.g. "moica-natural-person". */
  readonly name: string;
  /** The CA's label, substituted for `{ca}` in the URL templates. */
  readonly caLabel: string;
  /** Subject countryName (X.520; PrintableString, 2 letters). */
  readonly country: string;
  /** certificatePolicies policy identifiers (RFC 5280 §4.2.1.4). */
  readonly policyOids: readonly string[];
  /** Optional CPS pointer qualifier (RFC 5280 §4.2.1.4, id-qt-cps). */
  readonly cpsUri?: string;
  /**
   * CRL distribution point of a certificate's partition (RFC 5280 §4.2.1.13):
   * a URL with `{ca}` and `{partition}`, e.g. `http://crl.example.tw/crl/{ca}/{partition}.crl`.
   */
  readonly crlUrlTemplate: string;
  /** freshestCRL: the partition's delta CRL (RFC 5280 §4.2.1.15), same placeholders. */
  readonly deltaCrlUrlTemplate: string;
  /** Number of CRL partitions; a certificate's partition is in [0, crlPartitions). */
  readonly crlPartitions: number;
  /** AIA id-ad-ocsp and id-ad-caIssuers URLs (RFC 5280 §4.2.2.1); `{ca}` allowed. */
  readonly ocspUrl: string;
  readonly caIssuersUrl: string;
  /** RSA sizes accepted for holder keys. */
  readonly allowedRsaModulusBits: readonly number[];
  /** EC curves accepted for holder keys. */
  readonly allowedCurves: readonly ('P-256' | 'P-384')[];
  /** keyUsage per kind and key type; always marked critical (RFC 5280 §4.2.1.3: SHOULD). */
  readonly keyUsage: KeyUsagePolicy;
  /** Whether a holder may ask for an rfc822Name SAN (DOMAIN.md: added online on request only). */
  readonly allowEmailSan: boolean;
}

/**
 * MOICA key usages (DOMAIN.md): signature certificates digitalSignature +
 * nonRepudiation; encryption certificates keyEncipherment + dataEncipherment
 * for RSA. An EC key cannot encrypt a key: RFC 5480 §3 forbids
 * keyEncipherment and dataEncipherment for id-ecPublicKey, so an EC
 * encryption certificate asserts keyAgreement (ECDH) instead.
 */
export const MOICA_KEY_USAGE: KeyUsagePolicy = {
  signature: { RSA: ['digitalSignature', 'nonRepudiation'], EC: ['digitalSignature', 'nonRepudiation'] },
  encryption: { RSA: ['keyEncipherment', 'dataEncipherment'], EC: ['keyAgreement'] },
};

/** The MOICA natural-person profile of DOMAIN.md, for a CA publishing under `baseUrl`. */
export function moicaProfile(options: { caLabel: string; baseUrl: string; crlPartitions: number }): CertificateProfile {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    name: 'moica-natural-person',
    caLabel: options.caLabel,
    country: 'TW',
    policyOids: [OID.gpkiClass3Assurance],
    crlUrlTemplate: `${base}/crl/{ca}/{partition}.crl`,
    deltaCrlUrlTemplate: `${base}/crl/{ca}/{partition}-delta.crl`,
    crlPartitions: options.crlPartitions,
    ocspUrl: `${base}/ocsp/{ca}`,
    caIssuersUrl: `${base}/certs/{ca}.crt`,
    allowedRsaModulusBits: [2048, 3072, 4096],
    allowedCurves: ['P-256', 'P-384'],
    keyUsage: MOICA_KEY_USAGE,
    allowEmailSan: true,
  };
}

const urls = new WeakMap<CertificateProfile, Map<string, Map<number | undefined, string>>>();

/** Fills `{ca}` and `{partition}` in a profile URL template (memoised per profile: profiles are immutable values). */
export function profileUrl(template: string, profile: CertificateProfile, partition?: number): string {
  let byTemplate = urls.get(profile);
  if (!byTemplate) urls.set(profile, (byTemplate = new Map()));
  let byPartition = byTemplate.get(template);
  if (!byPartition) byTemplate.set(template, (byPartition = new Map()));
  let url = byPartition.get(partition);
  if (url === undefined) byPartition.set(partition, (url = fillUrl(template, profile, partition)));
  return url;
}

function fillUrl(template: string, profile: CertificateProfile, partition?: number): string {
  let url = template.split('{ca}').join(encodeURIComponent(profile.caLabel));
  if (partition !== undefined) url = url.split('{partition}').join(String(partition));
  if (/[{}]/.test(url)) throw new RangeError(`unfilled placeholder in ${template}`);
  return url;
}
