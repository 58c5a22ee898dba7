/**
 * Parses an OCSPRequest (RFC 6960 §4.1.1; the RFC 5019 profile) from
 * untrusted bytes with the bounds-checked {@link DerReader}: no ASN.1 object
 * model on the responder's hot path.
 *
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 *
 * Never throws: every problem is an {@link OcspRequestError}. The responder
 * answers any of them with malformedRequest (RFC 6960 §2.3), and
 * unsupportedHashAlgorithm either that way or with `unknown` for each
 * CertID, as it chooses.
 */
import { OID } from '../oids';
import { TAG, derObjectIdentifier } from './der-encoding';
import { DerElement, DerReadError, DerReader, bytesEqual, contentOf, encodingOf } from './der-reader';
import { CertIdHashAlgorithm } from './revocation-issuer';
import { CERT_ID_HASH_LENGTH } from './ocsp-cert-id';

/** Default maximum number of CertIDs in one request: more is `tooManyRequests`. */
export const MAX_OCSP_REQUEST_ENTRIES = 16;
/** Default maximum size of a request in octets (a signed request with its certificates fits easily). */
export const MAX_OCSP_REQUEST_BYTES = 65536;
/** Nonce length bounds (RFC 8954 §2.1: 1 to 32 octets). */
export const OCSP_NONCE_MIN_LENGTH = 1;
export const OCSP_NONCE_MAX_LENGTH = 32;
/** Largest serial number accepted in a CertID, in INTEGER content octets (RFC 5280 §4.1.2.2 allows 20; leave room for others' CAs). */
const MAX_SERIAL_OCTETS = 32;
/** Extensions per Extensions field: far more than any client sends. */
const MAX_EXTENSIONS = 16;

/** One requested certificate. Byte fields are views into the input: copy them if the input buffer is reused. */
export interface OcspCertIdRequest {
  /** The CertID exactly as received, to echo in the SingleResponse (RFC 6960 §4.2.1). */
  certIdDer: Uint8Array;
  hashAlgorithm: CertIdHashAlgorithm;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The serial number INTEGER content octets as received (DER, positive). */
  serialNumber: Uint8Array;
  /** The serial number's magnitude in lowercase hex, without a leading 00 sign octet. */
  serialHex: string;
}

/** A parsed OCSP request. */
export interface OcspRequest {
  /** 1 to `maxEntries` CertIDs, in request order. */
  requests: OcspCertIdRequest[];
  /** The nonce (RFC 8954), to echo in the response, when the client sent one. */
  nonce?: Uint8Array;
  /** True when optionalSignature is present (accepted, not verified: signed requests are not required). */
  signed: boolean;
}

/** Why a request was refused. */
export type OcspRequestErrorCode =
  | 'malformed'
  | 'tooLarge'
  | 'tooManyRequests'
  | 'unsupportedHashAlgorithm'
  | 'invalidNonce'
  | 'unsupportedCriticalExtension';

export interface OcspRequestError {
  code: OcspRequestErrorCode;
  /** What was wrong, for logs (contains no request data). */
  detail: string;
}

export type OcspRequestParseResult = { ok: true; request: OcspRequest } | { ok: false; error: OcspRequestError };

export interface OcspRequestParseOptions {
  /** Maximum CertIDs per request (default {@link MAX_OCSP_REQUEST_ENTRIES}). */
  maxEntries?: number;
  /** Maximum request size in octets (default {@link MAX_OCSP_REQUEST_BYTES}). */
  maxBytes?: number;
}

class RequestRefused extends Error {
  constructor(
    readonly code: OcspRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const SHA1_OID = derObjectIdentifier(OID.sha1).subarray(2);
const SHA256_OID = derObjectIdentifier(OID.sha256).subarray(2);
const NONCE_OID = derObjectIdentifier(OID.idPkixOcspNonce).subarray(2);

/** Parses a DER OCSPRequest. Never throws. */
export function parseOcspRequest(der: Uint8Array, options: OcspRequestParseOptions = {}): OcspRequestParseResult {
  try {
    if (!(der instanceof Uint8Array)) return refused('malformed', 'request is not bytes');
    const maxBytes = options.maxBytes ?? MAX_OCSP_REQUEST_BYTES;
    if (der.length > maxBytes) return refused('tooLarge', `request of ${der.length} octets exceeds ${maxBytes}`);
    return { ok: true, request: readRequest(der, options.maxEntries ?? MAX_OCSP_REQUEST_ENTRIES) };
  } catch (error) {
    if (error instanceof RequestRefused) return refused(error.code, error.message);
    if (error instanceof DerReadError) return refused('malformed', error.message);
    // A bug in this parser must not become a 500 with a stack trace: answer malformedRequest.
    return refused('malformed', `unexpected parser failure: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function refused(code: OcspRequestErrorCode, detail: string): OcspRequestParseResult {
  return { ok: false, error: { code, detail } };
}

function readRequest(der: Uint8Array, maxEntries: number): OcspRequest {
  const top = new DerReader(der);
  const ocspRequest = DerReader.inside(der, top.next(TAG.sequence, 'OCSPRequest'));
  top.finish('OCSPRequest');
  const tbs = DerReader.inside(der, ocspRequest.next(TAG.sequence, 'TBSRequest'));
  const signature = ocspRequest.optional(0xa0, 'optionalSignature');
  ocspRequest.finish('OCSPRequest content');
  if (signature) checkSignature(der, signature);

  const version = tbs.optional(0xa0, 'version');
  if (version) {
    // Version DEFAULT v1: DER omits it, but some clients write v1 (0) explicitly; anything else is unknown.
    const inner = DerReader.inside(der, version);
    const value = inner.next(TAG.integer, 'version');
    inner.finish('version');
    if (value.end - value.contentStart !== 1 || der[value.contentStart] !== 0) throw new DerReadError('unsupported version');
  }
  const requestorName = tbs.optional(0xa1, 'requestorName');
  if (requestorName) {
    const inner = DerReader.inside(der, requestorName);
    inner.next(undefined, 'requestorName');
    inner.finish('requestorName');
  }
  const requestList = DerReader.inside(der, tbs.next(TAG.sequence, 'requestList'));
  const requestExtensions = tbs.optional(0xa2, 'requestExtensions');
  tbs.finish('TBSRequest');

  const requests: OcspCertIdRequest[] = [];
  while (!requestList.done) {
    if (requests.length === maxEntries) {
      throw new RequestRefused('tooManyRequests', `more than ${maxEntries} CertIDs in one request`);
    }
    const request = DerReader.inside(der, requestList.next(TAG.sequence, 'Request'));
    requests.push(readCertId(der, request.next(TAG.sequence, 'CertID')));
    const single = request.optional(0xa0, 'singleRequestExtensions');
    request.finish('Request');
    if (single) readExtensions(der, single, 'singleRequestExtensions');
  }
  if (requests.length === 0) throw new DerReadError('empty requestList');

  const nonce = requestExtensions ? readExtensions(der, requestExtensions, 'requestExtensions') : undefined;
  return { requests, nonce, signed: signature !== undefined };
}

/** CertID (RFC 6960 §4.1.1). */
function readCertId(der: Uint8Array, element: DerElement): OcspCertIdRequest {
  const certId = DerReader.inside(der, element);
  const algorithm = DerReader.inside(der, certId.next(TAG.sequence, 'hashAlgorithm'));
  const oid = contentOf(der, algorithm.next(TAG.objectIdentifier, 'hashAlgorithm OID'));
  // Parameters absent or NULL (RFC 5754 §2 allows both for SHA-2; SHA-1 is sent with NULL).
  const parameters = algorithm.optional(TAG.null, 'hashAlgorithm parameters');
  if (parameters && parameters.end !== parameters.contentStart) throw new DerReadError('NULL with content');
  algorithm.finish('hashAlgorithm');
  let hashAlgorithm: CertIdHashAlgorithm;
  if (bytesEqual(oid, SHA1_OID)) hashAlgorithm = 'sha1';
  else if (bytesEqual(oid, SHA256_OID)) hashAlgorithm = 'sha256';
  else throw new RequestRefused('unsupportedHashAlgorithm', 'CertID hash algorithm is neither SHA-1 nor SHA-256');

  const issuerNameHash = contentOf(der, certId.next(TAG.octetString, 'issuerNameHash'));
  const issuerKeyHash = contentOf(der, certId.next(TAG.octetString, 'issuerKeyHash'));
  const expected = CERT_ID_HASH_LENGTH[hashAlgorithm];
  if (issuerNameHash.length !== expected || issuerKeyHash.length !== expected) {
    throw new DerReadError(`CertID hashes are not ${expected} octets for ${hashAlgorithm}`);
  }
  const serialElement = certId.next(TAG.integer, 'serialNumber');
  certId.finish('CertID');
  const serialNumber = contentOf(der, serialElement);
  if (serialNumber.length === 0) throw new DerReadError('empty serialNumber');
  if (serialNumber.length > MAX_SERIAL_OCTETS) throw new DerReadError('serialNumber too long');
  if (serialNumber[0] & 0x80) throw new DerReadError('negative serialNumber');
  if (serialNumber.length > 1 && serialNumber[0] === 0 && !(serialNumber[1] & 0x80)) {
    throw new DerReadError('non-minimal serialNumber');
  }
  const magnitude = serialNumber[0] === 0 && serialNumber.length > 1 ? serialNumber.subarray(1) : serialNumber;
  return {
    certIdDer: encodingOf(der, element),
    hashAlgorithm,
    issuerNameHash,
    issuerKeyHash,
    serialNumber,
    serialHex: Buffer.from(magnitude.buffer, magnitude.byteOffset, magnitude.length).toString('hex'),
  };
}

/**
 * `[n] EXPLICIT Extensions` (RFC 5280 §4.1): checks the shape, refuses
 * duplicates and unknown critical extensions, and returns the nonce when
 * there is one (RFC 8954 §2.1: extnValue is the DER of an OCTET STRING of 1
 * to 32 octets).
 */
function readExtensions(der: Uint8Array, field: DerElement, what: string): Uint8Array | undefined {
  const wrapper = DerReader.inside(der, field);
  const list = DerReader.inside(der, wrapper.next(TAG.sequence, what));
  wrapper.finish(what);
  if (list.done) throw new DerReadError(`empty ${what}`);
  const seen: Uint8Array[] = [];
  let nonce: Uint8Array | undefined;
  while (!list.done) {
    if (seen.length === MAX_EXTENSIONS) throw new DerReadError(`too many ${what}`);
    const extension = DerReader.inside(der, list.next(TAG.sequence, 'Extension'));
    const oidElement = extension.next(TAG.objectIdentifier, 'extnID');
    const oid = contentOf(der, oidElement);
    if (oid.length === 0) throw new DerReadError('empty extnID');
    let critical = false;
    const criticalElement = extension.optional(TAG.boolean, 'critical');
    if (criticalElement) {
      if (criticalElement.end - criticalElement.contentStart !== 1) throw new DerReadError('invalid BOOLEAN');
      const value = der[criticalElement.contentStart];
      if (value !== 0x00 && value !== 0xff) throw new DerReadError('invalid BOOLEAN');
      critical = value === 0xff;
    }
    const value = extension.next(TAG.octetString, 'extnValue');
    extension.finish('Extension');
    for (const earlier of seen) if (bytesEqual(earlier, oid)) throw new DerReadError(`duplicate extension in ${what}`);
    seen.push(oid);
    if (what === 'requestExtensions' && bytesEqual(oid, NONCE_OID)) {
      nonce = readNonce(der, value);
    } else if (critical) {
      throw new RequestRefused('unsupportedCriticalExtension', `unsupported critical extension in ${what}`);
    }
  }
  return nonce;
}

function readNonce(der: Uint8Array, extnValue: DerElement): Uint8Array {
  try {
    const inner = DerReader.inside(der, extnValue);
    const octets = inner.next(TAG.octetString, 'nonce');
    inner.finish('nonce');
    const nonce = contentOf(der, octets);
    if (nonce.length < OCSP_NONCE_MIN_LENGTH || nonce.length > OCSP_NONCE_MAX_LENGTH) {
      throw new DerReadError(`nonce of ${nonce.length} octets (RFC 8954: 1 to 32)`);
    }
    return nonce;
  } catch (error) {
    if (error instanceof DerReadError) throw new RequestRefused('invalidNonce', error.message);
    throw error;
  }
}

/** `[0] EXPLICIT Signature ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }`: shape only. */
function checkSignature(der: Uint8Array, field: DerElement): void {
  const wrapper = DerReader.inside(der, field);
  const signature = DerReader.inside(der, wrapper.next(TAG.sequence, 'Signature'));
  wrapper.finish('optionalSignature');
  signature.next(TAG.sequence, 'signatureAlgorithm');
  signature.next(TAG.bitString, 'signature');
  const certs = signature.optional(0xa0, 'certs');
  signature.finish('Signature');
  if (certs) {
    const inner = DerReader.inside(der, certs);
    const list = DerReader.inside(der, inner.next(TAG.sequence, 'certs'));
    inner.finish('certs');
    while (!list.done) list.next(TAG.sequence, 'Certificate');
  }
}
