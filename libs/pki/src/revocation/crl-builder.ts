/**
 * Builds and signs a CRL (RFC 5280 §5) from a stream of entries, at national
 * scale: a million revoked certificates without a million objects in memory.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version v2, signature, issuer, thisUpdate, nextUpdate,
 *                              revokedCertificates SEQUENCE OF ... OPTIONAL,
 *                              crlExtensions [0] EXPLICIT Extensions }
 *
 * Design (DER needs every length before the content):
 * - Entries are consumed once from an (async) iterable: either stored entry
 *   DERs (see {@link encodeCrlEntry}; a single item may hold several entries
 *   back to back, e.g. a batch of database rows) or entry objects, encoded on
 *   the fly. Nothing keeps a reference to an item after it is copied.
 * - When the caller knows the total length of the entry DERs up front
 *   (`entriesByteLength`, e.g. `SELECT sum(octet_length(entry_der))` in the
 *   same snapshot), the TBSCertList is allocated once and the entries are
 *   written straight into it: one pass, peak memory = one TBS.
 * - Otherwise the entries go into 1 MiB chunks and are copied into the TBS
 *   once their length is known: peak about two TBS (about 100 MB for a
 *   million entries).
 * - The Signer takes the whole TBS (`sign(data)`), so the TBS is one
 *   contiguous buffer; the signed CRL is returned as three chunks
 *   (outer header, TBS, algorithm + signature) so it is never copied again.
 */
import { createHash } from 'node:crypto';
import { algorithmIdentifierDer, Signer } from '../signing';
import { CrlEntry, encodeCrlEntry } from './crl-entry';
import {
  CrlPartitionScope,
  authorityKeyIdentifierExtension,
  crlNumberExtension,
  deltaCrlIndicatorExtension,
  freshestCrlExtension,
  issuingDistributionPointExtension,
} from './crl-extensions';
import { ByteChunks } from './byte-chunks';
import { TAG, concatBytes, derHeader, derLengthSize, derSequence, derTlv, writeDerLength } from './der-encoding';
import { bytesEqual } from './der-reader';
import { RevocationIssuer } from './revocation-issuer';
import { encodeX509Time } from './x509-time';

/**
 * What a CRL covers (RFC 5280 §5.2.4-§5.2.6):
 * - `complete`: every revoked certificate of the CA; no issuingDistributionPoint.
 * - `partition`: the certificates whose cRLDistributionPoints name
 *   `distributionPointUri`; carries a critical issuingDistributionPoint.
 * - `delta`: the changes since the complete (or partition) CRL `baseCrlNumber`;
 *   carries a critical deltaCRLIndicator and, for a partition's delta, the
 *   same issuingDistributionPoint as its base.
 * Complete and partition CRLs may name their delta CRLs in freshestCRL.
 */
export type CrlScope =
  | { kind: 'complete'; freshestCrlUris?: readonly string[] }
  | ({ kind: 'partition'; freshestCrlUris?: readonly string[] } & CrlPartitionScope)
  | { kind: 'delta'; baseCrlNumber: bigint; partition?: CrlPartitionScope };

/** Everything about a CRL except its entries. */
export interface CrlParameters {
  /** The CA (name and key identifier, from its certificate). */
  issuer: RevocationIssuer;
  /** The CA key; must be the key of `issuer`. */
  signer: Signer;
  /** cRLNumber (RFC 5280 §5.2.3): one increasing sequence per scope, shared by its complete and delta CRLs. */
  crlNumber: bigint;
  thisUpdate: Date;
  /** RFC 5280 §5.1.2.5: conforming CRL issuers MUST include nextUpdate. */
  nextUpdate: Date;
  scope: CrlScope;
  /**
   * Total length of the entry DERs, when known: the TBS is then written in a
   * single pass into one buffer. A different actual total is an error.
   */
  entriesByteLength?: number;
}

/**
 * A signed CRL, as chunks to write out in order (e.g. `Readable.from(crl.chunks)`
 * or one `writev`), with what a publisher records about it.
 */
export interface SignedCrl {
  /** The DER CertificateList, in order: outer header, TBSCertList, signature algorithm and value. */
  chunks: readonly Uint8Array[];
  byteLength: number;
  /** Lowercase hex SHA-256 of the DER (for ETags, audit and integrity checks). */
  sha256: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  scope: CrlScope;
  entryCount: number;
}

/** An entry as stored bytes (one or more DER entries back to back) or as an object to encode. */
export type CrlEntrySource = Uint8Array | CrlEntry;

/**
 * Builds and signs a CRL from `entries`, consumed once. Entries are listed
 * in the order given (revokedCertificates is a SEQUENCE OF: no sorting).
 * With no entries, revokedCertificates is omitted (RFC 5280 §5.1.2.6).
 * Throws RangeError for invalid parameters or entries, and an Error naming
 * the CRL (with the SigningError as cause) when signing fails.
 */
export async function buildCrl(
  parameters: CrlParameters,
  entries: AsyncIterable<CrlEntrySource> | Iterable<CrlEntrySource>,
): Promise<SignedCrl> {
  const { issuer, signer, crlNumber, thisUpdate, nextUpdate, scope } = parameters;
  const label = describeCrl(parameters);
  if (!bytesEqual(signer.publicKeySpki, issuer.subjectPublicKeyInfoDer)) {
    throw new RangeError(`${label}: signer ${signer.keyLabel} does not hold the key of the issuing CA certificate`);
  }
  if (!(nextUpdate.getTime() > thisUpdate.getTime())) throw new RangeError(`${label}: nextUpdate must be after thisUpdate`);
  if (scope.kind === 'delta' && !(scope.baseCrlNumber < crlNumber)) {
    throw new RangeError(`${label}: the base CRL number must be lower than the delta's own number (RFC 5280 §5.2.4)`);
  }

  const signatureAlgorithm = algorithmIdentifierDer(signer.signatureAlgorithm);
  // version v2 (RFC 5280 §5.1.2.1: required when extensions are present), signature, issuer, thisUpdate, nextUpdate
  const head = concatBytes([
    Uint8Array.of(TAG.integer, 0x01, 0x01),
    signatureAlgorithm,
    issuer.nameDer,
    encodeX509Time(thisUpdate),
    encodeX509Time(nextUpdate),
  ]);
  const extensions = derTlv(0xa0, derSequence(...crlExtensions(parameters)));

  const writer = new EntryWriter(scope.kind === 'delta', label);
  let tbs: Uint8Array;
  if (parameters.entriesByteLength !== undefined) {
    const entriesLength = parameters.entriesByteLength;
    if (!Number.isSafeInteger(entriesLength) || entriesLength < 0) throw new RangeError(`${label}: invalid entriesByteLength`);
    const listSize = entriesLength > 0 ? 1 + derLengthSize(entriesLength) + entriesLength : 0;
    tbs = allocateTbs(head, listSize, extensions);
    let offset = tbs.length - extensions.length - listSize;
    if (entriesLength > 0) {
      tbs[offset] = TAG.sequence;
      offset = writeDerLength(tbs, offset + 1, entriesLength);
    }
    const listEnd = offset + entriesLength;
    for await (const item of entries) {
      const der = writer.accept(item);
      if (offset + der.length > listEnd) throw new RangeError(`${label}: the entries exceed entriesByteLength ${entriesLength}`);
      tbs.set(der, offset);
      offset += der.length;
    }
    if (offset !== listEnd) throw new RangeError(`${label}: the entries are shorter than entriesByteLength ${entriesLength}`);
    tbs.set(extensions, offset);
  } else {
    const list = new ByteChunks();
    for await (const item of entries) list.append(writer.accept(item));
    const entriesLength = list.byteLength;
    const listSize = entriesLength > 0 ? 1 + derLengthSize(entriesLength) + entriesLength : 0;
    tbs = allocateTbs(head, listSize, extensions);
    let offset = tbs.length - extensions.length - listSize;
    if (entriesLength > 0) {
      tbs[offset] = TAG.sequence;
      offset = list.drainInto(tbs, writeDerLength(tbs, offset + 1, entriesLength));
    }
    tbs.set(extensions, offset);
  }

  let signature: Uint8Array;
  try {
    signature = await signer.sign(tbs);
  } catch (cause) {
    throw new Error(`signing ${label}`, { cause });
  }
  const bitString = derTlv(TAG.bitString, Uint8Array.of(0), signature);
  const tail = concatBytes([signatureAlgorithm, bitString]);
  const outerHeader = derHeader(TAG.sequence, tbs.length + tail.length);
  const chunks = [outerHeader, tbs, tail];
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return {
    chunks,
    byteLength: outerHeader.length + tbs.length + tail.length,
    sha256: hash.digest('hex'),
    crlNumber,
    thisUpdate,
    nextUpdate,
    scope,
    entryCount: writer.count,
  };
}

/** The whole DER CertificateList of a signed CRL in one array (a copy). */
export function signedCrlDer(crl: SignedCrl): Uint8Array {
  return concatBytes(crl.chunks);
}

/** Extensions by scope (RFC 5280 §5.2): AKI and cRLNumber always, then the scope's own. */
function crlExtensions({ issuer, crlNumber, scope }: CrlParameters): Uint8Array[] {
  const extensions = [authorityKeyIdentifierExtension(issuer.keyIdentifier), crlNumberExtension(crlNumber)];
  switch (scope.kind) {
    case 'complete':
      break;
    case 'partition':
      extensions.push(issuingDistributionPointExtension(scope));
      break;
    case 'delta':
      extensions.push(deltaCrlIndicatorExtension(scope.baseCrlNumber));
      // RFC 5280 §5.2.4: a delta of a partition carries the same issuingDistributionPoint as its base.
      if (scope.partition) extensions.push(issuingDistributionPointExtension(scope.partition));
      break;
    default:
      throw new RangeError(`unknown CRL scope ${String((scope as { kind: unknown }).kind)}`);
  }
  // RFC 5280 §5.2.6: freshestCRL belongs in complete CRLs, never in a delta CRL.
  if (scope.kind !== 'delta' && scope.freshestCrlUris?.length) extensions.push(freshestCrlExtension(scope.freshestCrlUris));
  return extensions;
}

/** Allocates the TBSCertList, writes its header and `head`, and leaves room for the entry list and extensions. */
function allocateTbs(head: Uint8Array, listSize: number, extensions: Uint8Array): Uint8Array {
  const contentLength = head.length + listSize + extensions.length;
  const tbs = new Uint8Array(1 + derLengthSize(contentLength) + contentLength);
  tbs[0] = TAG.sequence;
  tbs.set(head, writeDerLength(tbs, 1, contentLength));
  return tbs;
}

/** Checks and counts entries: objects are encoded; stored DERs are checked to be whole SEQUENCEs. */
class EntryWriter {
  count = 0;

  constructor(
    private readonly delta: boolean,
    private readonly label: string,
  ) {}

  accept(item: CrlEntrySource): Uint8Array {
    if (item instanceof Uint8Array) {
      this.count += countEntries(item, this.label);
      return item;
    }
    if (item.reason === 'removeFromCRL' && !this.delta) {
      throw new RangeError(`${this.label}: removeFromCRL is only allowed in delta CRLs (RFC 5280 §5.3.1)`);
    }
    let der: Uint8Array;
    try {
      der = encodeCrlEntry(item);
    } catch (cause) {
      throw new RangeError(`${this.label}: entry ${this.count}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    this.count++;
    return der;
  }
}

/**
 * Walks the top-level elements of stored entry bytes: each must be a whole
 * SEQUENCE, so a truncated or corrupt row cannot make the CA sign a CRL that
 * relying parties cannot parse.
 */
function countEntries(bytes: Uint8Array, label: string): number {
  let count = 0;
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== TAG.sequence || offset + 2 > bytes.length) {
      throw new RangeError(`${label}: stored entry ${count} is not a DER SEQUENCE`);
    }
    let length = bytes[offset + 1];
    let contentStart = offset + 2;
    if (length & 0x80) {
      const lengthOctets = length & 0x7f;
      if (lengthOctets === 0 || lengthOctets > 3 || contentStart + lengthOctets > bytes.length) {
        throw new RangeError(`${label}: stored entry ${count} has an invalid length`);
      }
      length = 0;
      for (let i = 0; i < lengthOctets; i++) length = length * 256 + bytes[contentStart + i];
      contentStart += lengthOctets;
    }
    offset = contentStart + length;
    if (offset > bytes.length) throw new RangeError(`${label}: stored entry ${count} is truncated`);
    count++;
  }
  if (count === 0) throw new RangeError(`${label}: empty stored entry`);
  return count;
}

function describeCrl({ crlNumber, scope }: CrlParameters): string {
  switch (scope.kind) {
    case 'complete':
      return `complete CRL ${crlNumber}`;
    case 'partition':
      return `partition CRL ${crlNumber} (${scope.distributionPointUri})`;
    case 'delta':
      return `delta CRL ${crlNumber} (base ${scope.baseCrlNumber}${scope.partition ? `, ${scope.partition.distributionPointUri}` : ''})`;
    default:
      return `CRL ${crlNumber}`;
  }
}
