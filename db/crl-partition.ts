/**
 * CRL partitions and distribution URLs (RFC 5280 §4.2.1.13, §5.2.5; docs/crl.md).
 *
 * Contract with issuance (apps/ca-api): a certificate's partition is
 * deterministic (`partitionFor(serial, ca.crl_partitions)` below, or
 * ca-api's partitionOf(card number)), stored in `certificate.crl_partition`
 * and written into its cRLDistributionPoints and freshestCRL by
 * `moicaProfile({ caLabel: ca.name, baseUrl: PUBLIC_BASE_URL, crlPartitions:
 * ca.crl_partitions })`. The URLs below are built from the
 * very same profile templates, so what the CRLs carry in their
 * issuingDistributionPoint, what the responder serves and what certificates
 * name are equal byte for byte.
 */
import { createHash } from 'node:crypto';
import { moicaProfile, profileUrl } from '@moica/pki';

/**
 * The partition of a certificate: the first 4 octets of SHA-256(serial
 * octets), big-endian, modulo `partitions`. Deterministic and uniform even
 * if serials had structure; the same in SQL as
 * `('x' || encode(substr(sha256(serial), 1, 4), 'hex'))::bit(32)::bigint % partitions`.
 */
export function partitionFor(serial: Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new RangeError(`partitions must be an integer in [1, 4096], got ${partitions}`);
  }
  if (serial.length === 0) throw new RangeError('empty serial number');
  return createHash('sha256').update(serial).digest().readUInt32BE(0) % partitions;
}

/** SQL expression of {@link partitionFor} over a bytea column and an integer expression. */
export function partitionForSql(serialColumn: string, partitions: string): string {
  return `((('x' || encode(substr(sha256(${serialColumn}), 1, 4), 'hex'))::bit(32)::bigint % (${partitions}))::int)`;
}

/** The label of the complete CRL where partition CRLs have their number. */
export const COMPLETE_CRL_LABEL = 'complete';

/** The URLs of one CA's CRLs. */
export interface CrlUrls {
  /** The complete CRL: the profile's partition template with `complete` for the partition. */
  complete: string;
  /** The delta of the complete CRL (freshestCRL of the complete CRL). */
  completeDelta: string;
  /** Partition p's CRL: exactly the certificates' cRLDistributionPoints URI. */
  partition(p: number): string;
  /** Partition p's delta: exactly the certificates' freshestCRL URI. */
  partitionDelta(p: number): string;
}

/** The CRL URLs of a CA named `caName` publishing under `publicBaseUrl` (PUBLIC_BASE_URL). */
export function crlUrls(caName: string, publicBaseUrl: string, crlPartitions: number): CrlUrls {
  const profile = moicaProfile({ caLabel: caName, baseUrl: publicBaseUrl, crlPartitions });
  const fill = (template: string, label: string) => profileUrl(template.split('{partition}').join(label), profile);
  return {
    complete: fill(profile.crlUrlTemplate, COMPLETE_CRL_LABEL),
    completeDelta: fill(profile.deltaCrlUrlTemplate, COMPLETE_CRL_LABEL),
    partition: (p) => profileUrl(profile.crlUrlTemplate, profile, p),
    partitionDelta: (p) => profileUrl(profile.deltaCrlUrlTemplate, profile, p),
  };
}

/** Which CRL a request path names: `/crl/{ca}/{partition|complete}[-delta].crl` (the profile's layout). */
export interface CrlPathScope {
  caName: string;
  kind: 'complete' | 'partition' | 'delta';
  /** Partition number, or null for the complete CRL and its delta. */
  partition: number | null;
}

/**
 * Parses the file part of a CRL URL path (`7.crl`, `7-delta.crl`,
 * `complete.crl`, `complete-delta.crl`). Undefined for anything else.
 */
export function parseCrlFileName(caName: string, file: string): CrlPathScope | undefined {
  const match = /^(0|[1-9][0-9]{0,3}|complete)(-delta)?\.crl$/.exec(file);
  if (!match) return undefined;
  const partition = match[1] === COMPLETE_CRL_LABEL ? null : Number(match[1]);
  const kind = match[2] ? 'delta' : partition === null ? 'complete' : 'partition';
  return { caName, kind, partition };
}
