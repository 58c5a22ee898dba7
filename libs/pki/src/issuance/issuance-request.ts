/**
 * What the registration side asks the CA to certify: the holder's data, the
 * checked key and the validity, all as values (no clock is read here; the
 * policy library computes notBefore, notAfter and the 8-year cap).
 */
import { CertificateKind } from './certificate-profile';
import { CheckedPublicKey } from './key-quality';

export interface IssuanceRequest {
  readonly kind: CertificateKind;
  /** The holder key, after {@link checkKeyQuality} (or {@link checkRenewalKeyQuality} for a renewal). */
  readonly publicKey: CheckedPublicKey;
  /** Holder name as on the ID card, into the subject CN as UTF8String (RFC 5280 §4.1.2.4; at most 64 characters, ub-common-name). */
  readonly holderName: string;
  /** The 16-digit holder number the CA assigns (never the national ID), into subject serialNumber. */
  readonly holderNumber: string;
  /** The last 4 digits of the national ID number: the only part of it a certificate carries (DOMAIN.md). */
  readonly nationalIdLast4: string;
  /** rfc822Name SAN, only when the holder asked for it online (DOMAIN.md). */
  readonly email?: string;
  /** Validity, whole seconds (milliseconds are refused). notAfter is inclusive (RFC 5280 §4.1.2.5). */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The CRL partition that will list this certificate if it is revoked (RFC 5280 §5.2.5, §4.2.1.13). */
  readonly crlPartition: number;
  /**
   * For a renewal (DOMAIN.md, 展期): the DER of the certificate being renewed.
   * The key must then be the same and checked with checkRenewalKeyQuality;
   * see {@link renewalRequest}.
   */
  readonly renewalOf?: Uint8Array;
}
