/**
 * SingleResponse (RFC 6960 §4.2.1), encodable on its own so the responder
 * can pre-produce and store the response of one certificate (RFC 5019 §2.2,
 * §6.2):
 *
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *                                 nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL,
 *                                 singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 *   RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 */
import { TAG, derSmallEnumerated, derTlv, concatBytes } from './der-encoding';
import { CrlReason, crlReasonCode } from './crl-reason';
import { encodeGeneralizedTime } from './x509-time';

/**
 * The status of one certificate. A suspended certificate is `revoked` with
 * reason `certificateHold` (DOMAIN.md); a resumed one is `good` again.
 * `unknown`: not a certificate of this CA, or no such serial.
 */
export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: CrlReason }
  | { status: 'unknown' };

export interface SingleResponseInput {
  /** The DER CertID: the request's bytes as parsed, or {@link encodeCertId} for a pre-produced response. */
  certIdDer: Uint8Array;
  certStatus: OcspCertStatus;
  /** When the status was known to be correct (RFC 6960 §2.4). */
  thisUpdate: Date;
  /** When newer information will be available; RFC 5019 §2.2.4 requires it for pre-produced responses. */
  nextUpdate?: Date;
}

const GOOD = Uint8Array.of(0x80, 0x00);
const UNKNOWN = Uint8Array.of(0x82, 0x00);

/** The DER of one SingleResponse. Throws RangeError on inconsistent input. */
export function encodeSingleResponse(input: SingleResponseInput): Uint8Array {
  const { certIdDer, certStatus, thisUpdate, nextUpdate } = input;
  if (!(certIdDer instanceof Uint8Array) || certIdDer[0] !== TAG.sequence) throw new RangeError('certIdDer is not a DER CertID');
  if (nextUpdate && !(nextUpdate.getTime() >= thisUpdate.getTime())) throw new RangeError('nextUpdate is before thisUpdate');
  let status: Uint8Array;
  switch (certStatus.status) {
    case 'good':
      status = GOOD;
      break;
    case 'unknown':
      status = UNKNOWN;
      break;
    case 'revoked': {
      const { reason } = certStatus;
      if (reason === 'removeFromCRL') throw new RangeError('removeFromCRL is not a revocation reason in OCSP (RFC 6960 §4.2.1)');
      const code = reason === undefined ? 0 : crlReasonCode(reason);
      // As in CRL entries (RFC 5280 §5.3.1), an unspecified reason is left out rather than written as 0.
      status =
        code === 0
          ? derTlv(0xa1, encodeGeneralizedTime(certStatus.revokedAt))
          : derTlv(0xa1, encodeGeneralizedTime(certStatus.revokedAt), derTlv(0xa0, derSmallEnumerated(code)));
      break;
    }
    default:
      throw new RangeError(`unknown certificate status ${String((certStatus as { status: unknown }).status)}`);
  }
  const parts = [certIdDer, status, encodeGeneralizedTime(thisUpdate)];
  if (nextUpdate) parts.push(derTlv(0xa0, encodeGeneralizedTime(nextUpdate)));
  return derTlv(TAG.sequence, concatBytes(parts));
}
