/**
 * The CRL extensions (RFC 5280 §5.2) this CA writes, each as the DER of one
 * Extension. Criticality follows the RFC: cRLNumber, AKI and freshestCRL are
 * non-critical, deltaCRLIndicator and issuingDistributionPoint critical.
 */
import { OID } from '../oids';
import {
  TAG,
  bigintMagnitude,
  derExtension,
  derSequence,
  derTlv,
  ia5Bytes,
  unsignedIntegerContent,
} from './der-encoding';

/** authorityKeyIdentifier with keyIdentifier only (RFC 5280 §5.2.1, §4.2.1.1). */
export function authorityKeyIdentifierExtension(keyIdentifier: Uint8Array): Uint8Array {
  if (keyIdentifier.length === 0) throw new RangeError('empty authority key identifier');
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  return derExtension(OID.authorityKeyIdentifier, false, derSequence(derTlv(0x80, keyIdentifier)));
}

/** cRLNumber (RFC 5280 §5.2.3): non-critical, 0 <= number, at most 20 octets. */
export function crlNumberExtension(crlNumber: bigint): Uint8Array {
  return derExtension(OID.cRLNumber, false, crlNumberInteger(crlNumber, 'cRLNumber'));
}

/** deltaCRLIndicator (RFC 5280 §5.2.4): critical, carries the cRLNumber of the base CRL. */
export function deltaCrlIndicatorExtension(baseCrlNumber: bigint): Uint8Array {
  return derExtension(OID.deltaCRLIndicator, true, crlNumberInteger(baseCrlNumber, 'BaseCRLNumber'));
}

/** Where a partition of the CRL is published, and which certificates it covers. */
export interface CrlPartitionScope {
  /** The partition's URI, exactly as in the cRLDistributionPoints of the certificates it covers (RFC 5280 §5.2.5). */
  distributionPointUri: string;
  /** True when the partition covers end-entity certificates only (onlyContainsUserCerts). */
  onlyContainsUserCerts: boolean;
}

/**
 * issuingDistributionPoint (RFC 5280 §5.2.5): critical; distributionPoint
 * fullName with one URI and, when set, onlyContainsUserCerts TRUE (the
 * DEFAULT FALSE is omitted, X.690 §11.5).
 */
export function issuingDistributionPointExtension(scope: CrlPartitionScope): Uint8Array {
  const fields = [distributionPointName([scope.distributionPointUri])];
  if (scope.onlyContainsUserCerts) fields.push(Uint8Array.of(0x81, 0x01, 0xff)); // [1] IMPLICIT BOOLEAN TRUE
  return derExtension(OID.issuingDistributionPoint, true, derSequence(...fields));
}

/**
 * freshestCRL (RFC 5280 §5.2.6): non-critical, one DistributionPoint whose
 * fullName lists the URIs where the delta CRL is published.
 */
export function freshestCrlExtension(uris: readonly string[]): Uint8Array {
  if (uris.length === 0) throw new RangeError('freshestCRL needs at least one URI');
  return derExtension(OID.freshestCRL, false, derSequence(derSequence(distributionPointName(uris))));
}

/**
 * `distributionPoint [0] DistributionPointName` holding `fullName [0]
 * GeneralNames` of uniformResourceIdentifier [6] (RFC 5280 §4.2.1.13). The
 * outer [0] is constructed: a tag on a CHOICE is explicit (X.680 §31.2.7).
 */
function distributionPointName(uris: readonly string[]): Uint8Array {
  const names = uris.map((uri) => {
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri)) throw new RangeError(`not a URI: ${JSON.stringify(uri)}`);
    return derTlv(0x86, ia5Bytes(uri));
  });
  return derTlv(0xa0, derTlv(0xa0, ...names));
}

function crlNumberInteger(value: bigint, what: string): Uint8Array {
  if (typeof value !== 'bigint' || value < 0n) throw new RangeError(`${what} must be a non-negative bigint`);
  const content = unsignedIntegerContent(bigintMagnitude(value));
  // RFC 5280 §5.2.3: "CRL issuers MUST NOT use CRLNumber values longer than 20 octets."
  if (content.length > 20) throw new RangeError(`${what} ${value} is longer than 20 octets`);
  return derTlv(TAG.integer, content);
}
