/**
 * The unsigned OCSP error responses (RFC 6960 §2.3, §4.2.1): an OCSPResponse
 * with a responseStatus and no responseBytes. They never vary, so they are
 * constants: `SEQUENCE { ENUMERATED status }`. Do not mutate them.
 */

/** OCSPResponseStatus values other than successful (RFC 6960 §4.2.1). */
export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

export type OcspErrorStatus = Exclude<keyof typeof OCSP_RESPONSE_STATUS, 'successful'>;

const errorResponse = (status: number): Uint8Array => Uint8Array.of(0x30, 0x03, 0x0a, 0x01, status);

/** The request could not be parsed (RFC 6960 §2.3). */
export const OCSP_MALFORMED_REQUEST: Uint8Array = errorResponse(OCSP_RESPONSE_STATUS.malformedRequest);
/** The responder reached an inconsistent internal state (RFC 6960 §2.3). */
export const OCSP_INTERNAL_ERROR: Uint8Array = errorResponse(OCSP_RESPONSE_STATUS.internalError);
/** Try again later, e.g. the database or HSM is unavailable (RFC 6960 §2.3). */
export const OCSP_TRY_LATER: Uint8Array = errorResponse(OCSP_RESPONSE_STATUS.tryLater);
/** The request must be signed (RFC 6960 §2.3); not used by this CA, which accepts unsigned requests. */
export const OCSP_SIG_REQUIRED: Uint8Array = errorResponse(OCSP_RESPONSE_STATUS.sigRequired);
/** The responder cannot answer for this certificate, e.g. another CA's (RFC 6960 §2.3; RFC 5019 §2.2.3). */
export const OCSP_UNAUTHORIZED: Uint8Array = errorResponse(OCSP_RESPONSE_STATUS.unauthorized);

/** The constant response for an error status. */
export function ocspErrorResponse(status: OcspErrorStatus): Uint8Array {
  switch (status) {
    case 'malformedRequest':
      return OCSP_MALFORMED_REQUEST;
    case 'internalError':
      return OCSP_INTERNAL_ERROR;
    case 'tryLater':
      return OCSP_TRY_LATER;
    case 'sigRequired':
      return OCSP_SIG_REQUIRED;
    case 'unauthorized':
      return OCSP_UNAUTHORIZED;
    default:
      throw new RangeError(`not an OCSP error status: ${String(status)}`);
  }
}
