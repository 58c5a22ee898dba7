/**
 * Reads a TBSCertificate (RFC 5280 §4.1) into its fields without
 * re-encoding anything. Used by the lint (which must judge the bytes that
 * will be signed, not the builder's intentions), to describe an issuer
 * certificate and to read a certificate being renewed.
 */
import { children, childrenOf, content, DerNode, encoding, readBoolean, readInteger, readOid, readSingle, readTime, Tag } from './der-reader';

/** One extension (RFC 5280 §4.1: extnID, critical DEFAULT FALSE, extnValue). */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** Whether `critical` was encoded explicitly as FALSE (forbidden by DER: DEFAULT values are omitted). */
  readonly explicitFalse: boolean;
  /** The extnValue OCTET STRING's content: the DER of the extension's value. */
  readonly value: Uint8Array;
}

/** One AttributeTypeAndValue of a Name, with its string tag. */
export interface NameAttribute {
  readonly oid: string;
  readonly tag: number;
  readonly value: Uint8Array;
}

export interface TbsCertificateFields {
  readonly version: bigint;
  readonly serialNumber: bigint;
  /** Content octets of the serial INTEGER. */
  readonly serialNumberOctets: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notBeforeTag: number;
  readonly notAfter: Date;
  readonly notAfterTag: number;
  readonly subjectDer: Uint8Array;
  /** Relative distinguished names, each a set of attributes. */
  readonly subject: NameAttribute[][];
  readonly subjectPublicKeyInfoDer: Uint8Array;
  readonly hasUniqueIdentifiers: boolean;
  readonly extensions: RawExtension[];
}

/** Parses the DER of a TBSCertificate. Throws RangeError when it is not one. */
export function readTbsCertificate(tbsDer: Uint8Array): TbsCertificateFields {
  return readTbsNode(readSingle(tbsDer), copy);
}

/**
 * Like {@link readTbsCertificate}, but the byte fields are views into
 * `tbsDer`, not copies: for a reader that is done with them before the
 * buffer can change (the lint, which reads every certificate once).
 */
export function readTbsCertificateViews(tbsDer: Uint8Array): TbsCertificateFields {
  return readTbsNode(readSingle(tbsDer), view);
}

type Take = (bytes: Uint8Array) => Uint8Array;
const copy: Take = (bytes) => bytes.slice();
const view: Take = (bytes) => bytes;

/** Parses a Certificate and returns the fields of its TBSCertificate plus the TBS bytes. */
export function readCertificate(certificateDer: Uint8Array): TbsCertificateFields & { tbsDer: Uint8Array } {
  const [tbs, algorithm, signature, ...extra] = childrenOf(readSingle(certificateDer), Tag.sequence, 'Certificate');
  if (!algorithm || !signature || extra.length) throw new RangeError('Certificate has three fields');
  return { ...readTbsNode(tbs, copy), tbsDer: encoding(tbs).slice() };
}

function readTbsNode(tbs: DerNode, take: Take): TbsCertificateFields {
  const fields = childrenOf(tbs, Tag.sequence, 'TBSCertificate');
  let i = 0;
  let version = 0n;
  if (fields[i]?.tag === 0xa0) {
    const [inner, ...extra] = children(fields[i]);
    if (extra.length) throw new RangeError('version [0] holds one INTEGER');
    version = readInteger(inner);
    i++;
  }
  const serial = fields[i++];
  const serialNumber = readInteger(serial);
  const signatureAlgorithm = expect(fields[i++], Tag.sequence, 'signature');
  const issuer = expect(fields[i++], Tag.sequence, 'issuer');
  const validity = childrenOf(expect(fields[i++], Tag.sequence, 'validity'), Tag.sequence, 'validity');
  if (validity.length !== 2) throw new RangeError('validity has notBefore and notAfter');
  const subject = expect(fields[i++], Tag.sequence, 'subject');
  const spki = expect(fields[i++], Tag.sequence, 'subjectPublicKeyInfo');
  let hasUniqueIdentifiers = false;
  while (fields[i] && (fields[i].tag === 0x81 || fields[i].tag === 0xa1 || fields[i].tag === 0x82 || fields[i].tag === 0xa2)) {
    hasUniqueIdentifiers = true;
    i++;
  }
  let extensions: RawExtension[] = [];
  if (fields[i]?.tag === 0xa3) {
    const [list, ...extra] = children(fields[i]);
    if (extra.length) throw new RangeError('extensions [3] holds one SEQUENCE');
    extensions = readExtensions(list, take);
    i++;
  }
  if (i !== fields.length) throw new RangeError('unexpected fields at the end of TBSCertificate');
  return {
    version,
    serialNumber,
    serialNumberOctets: take(content(serial)),
    signatureAlgorithmDer: take(encoding(signatureAlgorithm)),
    issuerDer: take(encoding(issuer)),
    notBefore: readTime(validity[0]),
    notBeforeTag: validity[0].tag,
    notAfter: readTime(validity[1]),
    notAfterTag: validity[1].tag,
    subjectDer: take(encoding(subject)),
    subject: readNameWith(subject, take),
    subjectPublicKeyInfoDer: take(encoding(spki)),
    hasUniqueIdentifiers,
    extensions,
  };
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue), RFC 5280 §4.1.2.4. */
export function readName(name: DerNode): NameAttribute[][] {
  return readNameWith(name, copy);
}

function readNameWith(name: DerNode, take: Take): NameAttribute[][] {
  return childrenOf(name, Tag.sequence, 'Name').map((rdn) =>
    childrenOf(rdn, Tag.set, 'RelativeDistinguishedName').map((atv) => {
      const [type, value, ...extra] = childrenOf(atv, Tag.sequence, 'AttributeTypeAndValue');
      if (!value || extra.length) throw new RangeError('AttributeTypeAndValue has two fields');
      return { oid: readOid(type), tag: value.tag, value: take(content(value)) };
    }),
  );
}

function readExtensions(list: DerNode, take: Take): RawExtension[] {
  return childrenOf(list, Tag.sequence, 'Extensions').map((extension) => {
    const parts = childrenOf(extension, Tag.sequence, 'Extension');
    const oid = readOid(parts[0]);
    let critical = false;
    let explicitFalse = false;
    let index = 1;
    if (parts[index]?.tag === Tag.boolean) {
      critical = readBoolean(parts[index]);
      explicitFalse = !critical;
      index++;
    }
    const value = parts[index];
    if (!value || value.tag !== Tag.octetString || index + 1 !== parts.length) throw new RangeError(`extension ${oid}: extnValue`);
    return { oid, critical, explicitFalse, value: take(content(value)) };
  });
}

function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new RangeError(`TBSCertificate.${what} missing or mistyped`);
  return node;
}

