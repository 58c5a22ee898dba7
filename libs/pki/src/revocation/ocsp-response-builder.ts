/**
 * Signs OCSP responses (RFC 6960 §4.2.1):
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER (id-pkix-ocsp-basic), response OCTET STRING }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm, signature BIT STRING,
 *                                    certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *                               producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *                               responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 *
 * The responder is the CA itself or a delegated responder certified by it
 * with id-kp-OCSPSigning (RFC 6960 §4.2.2.2); either way its certificate is
 * sent in `certs`, and it is named byKey (RFC 5019 §2.2.3 recommends it).
 */
import { createHash } from 'node:crypto';
import { OID } from '../oids';
import { Signer, assembleSignedWith } from '../signing';
import { TAG, derExtension, derObjectIdentifier, derOctetString, derSequence, derTlv, concatBytes } from './der-encoding';
import { DerReader, DerReadError, bytesEqual } from './der-reader';
import { readCertificateFields } from './certificate-fields';
import { OCSP_NONCE_MAX_LENGTH, OCSP_NONCE_MIN_LENGTH } from './ocsp-request-parser';
import { encodeGeneralizedTime } from './x509-time';

export interface OcspResponderIdentity {
  /** The responder key: the CA's or a delegated OCSP signing key. */
  signer: Signer;
  /** The DER certificate of that key, sent in `certs` so clients can verify a delegated responder. */
  signerCertificateDer: Uint8Array;
}

export interface OcspResponseInput {
  /** When the response was signed (RFC 6960 §4.2.1 producedAt). */
  producedAt: Date;
  /** One or more DER SingleResponses ({@link encodeSingleResponse}), one per requested CertID, in request order. */
  singleResponses: readonly Uint8Array[];
  /** The request's nonce, echoed in responseExtensions (RFC 8954 §2.1). */
  nonce?: Uint8Array;
}

const BASIC_RESPONSE_TYPE = derObjectIdentifier(OID.idPkixOcspBasic);
const SUCCESSFUL = Uint8Array.of(TAG.enumerated, 0x01, 0x00);

/**
 * Signs successful OCSP responses with one responder key. Reuse one instance
 * per key. A pre-produced response for one certificate (RFC 5019 §2.2, §6.2)
 * is `build({ producedAt, singleResponses: [encodeSingleResponse({ certIdDer:
 * encodeCertId(issuer, 'sha1', serial), ... })] })` without a nonce, stored as
 * bytes and served as is until its nextUpdate.
 */
export class OcspResponseBuilder {
  private readonly responderId: Uint8Array;
  private readonly certs: Uint8Array;

  /** Throws RangeError when the certificate is not the signer's. */
  constructor(private readonly identity: OcspResponderIdentity) {
    const fields = readCertificateFields(identity.signerCertificateDer);
    if (!bytesEqual(fields.subjectPublicKeyInfoDer, identity.signer.publicKeySpki)) {
      throw new RangeError(`OCSP responder ${identity.signer.keyLabel}: the certificate is not for the signer's key`);
    }
    // ResponderID byKey [2] EXPLICIT KeyHash: SHA-1 of the subjectPublicKey BIT STRING value,
    // excluding tag, length and unused-bits octet (RFC 6960 §4.2.1).
    const keyHash = new Uint8Array(createHash('sha1').update(fields.subjectPublicKey).digest());
    this.responderId = derTlv(0xa2, derOctetString(keyHash));
    this.certs = derTlv(0xa0, derSequence(identity.signerCertificateDer));
  }

  /** The DER ResponseData for `input` (what gets signed). */
  responseData(input: OcspResponseInput): Uint8Array {
    const { producedAt, singleResponses, nonce } = input;
    if (singleResponses.length === 0) throw new RangeError('an OCSP response needs at least one SingleResponse');
    const parts = [this.responderId, encodeGeneralizedTime(producedAt), derTlv(TAG.sequence, concatBytes(singleResponses))];
    if (nonce !== undefined) {
      if (nonce.length < OCSP_NONCE_MIN_LENGTH || nonce.length > OCSP_NONCE_MAX_LENGTH) {
        throw new RangeError(`nonce of ${nonce.length} octets (RFC 8954: 1 to 32)`);
      }
      parts.push(derTlv(0xa1, derSequence(derExtension(OID.idPkixOcspNonce, false, derOctetString(nonce)))));
    }
    return derTlv(TAG.sequence, concatBytes(parts));
  }

  /** Signs and returns the DER OCSPResponse (successful, id-pkix-ocsp-basic). */
  async build(input: OcspResponseInput): Promise<Uint8Array> {
    const tbs = this.responseData(input);
    let basic: Uint8Array;
    try {
      basic = await assembleSignedWith(tbs, this.identity.signer, this.certs);
    } catch (cause) {
      throw new Error(`signing an OCSP response with ${this.identity.signer.keyLabel}`, { cause });
    }
    return derSequence(SUCCESSFUL, derTlv(0xa0, derSequence(BASIC_RESPONSE_TYPE, derOctetString(basic))));
  }
}

/**
 * Where the `certs` field of the BasicOCSPResponse inside an OCSPResponse
 * starts, when it is the last field and ends where `der` ends (RFC 6960
 * §4.2.1); -1 for any other shape (an error response, no certificates,
 * trailing octets, anything malformed). What follows that offset is the same
 * in every response one responder signs: the OCSP responder's cache keeps it
 * once.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
 *     responseType OID, response OCTET STRING (BasicOCSPResponse ::= SEQUENCE {
 *       tbsResponseData SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT STRING, certs [0] EXPLICIT ... }) } }
 */
export function ocspCertsFieldStart(der: Uint8Array): number {
  try {
    const outer = new DerReader(der);
    const response = outer.next(TAG.sequence, 'OCSPResponse');
    outer.finish('OCSPResponse');
    const fields = DerReader.inside(der, response);
    fields.next(TAG.enumerated, 'responseStatus');
    const explicit = fields.next(0xa0, 'responseBytes');
    fields.finish('OCSPResponse');
    const bytes = DerReader.inside(der, explicit);
    const responseBytes = bytes.next(TAG.sequence, 'ResponseBytes');
    bytes.finish('responseBytes');
    const typed = DerReader.inside(der, responseBytes);
    typed.next(TAG.objectIdentifier, 'responseType');
    const octets = typed.next(TAG.octetString, 'response');
    typed.finish('ResponseBytes');
    const wrapper = DerReader.inside(der, octets);
    const basic = wrapper.next(TAG.sequence, 'BasicOCSPResponse');
    wrapper.finish('response');
    const parts = DerReader.inside(der, basic);
    parts.next(TAG.sequence, 'tbsResponseData');
    parts.next(TAG.sequence, 'signatureAlgorithm');
    parts.next(TAG.bitString, 'signature');
    const certs = parts.next(0xa0, 'certs');
    parts.finish('BasicOCSPResponse');
    return certs.end === der.length ? certs.start : -1;
  } catch (error) {
    if (error instanceof DerReadError) return -1;
    throw error;
  }
}
