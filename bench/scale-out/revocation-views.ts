import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { encodeCertId, revocationIssuerFromCertificate, type RevocationIssuer } from '@moica/pki';
import { ocspRequestDer } from '../ocsp/make-requests';

/**
 * What a relying party sees of a certificate's status, read the way a
 * client reads it (issue 11's consistency check): the OCSP answer parsed
 * from DER (RFC 6960 §4.2), and the entries of a CRL (RFC 5280 §5.1).
 */
export type SeenStatus = 'good' | 'revoked' | 'hold' | 'unknown' | 'tryLater' | 'error';

export interface OcspView {
  status: SeenStatus;
  nextUpdate?: Date;
}

const OCSP_RESPONSE_STATUS_TRY_LATER = 3;
/** CRLReason certificateHold (RFC 5280 §5.3.1). */
const CERTIFICATE_HOLD = 6;

export class OcspClient {
  private readonly issuer: RevocationIssuer;

  constructor(issuingCaDer: Uint8Array) {
    this.issuer = revocationIssuerFromCertificate(issuingCaDer);
  }

  /** The DER OCSPRequest for one serial (hex), SHA-1 CertID, no nonce (RFC 5019 §2.1.1). */
  request(serialHex: string): Uint8Array {
    const magnitude = serialHex.replace(/^(00)+(?=[0-9a-f]{2})/i, '').toLowerCase();
    return ocspRequestDer(encodeCertId(this.issuer, 'sha1', magnitude));
  }

  /** POSTs the request to `<responderUrl>/ocsp` and parses the answer; network errors are 'error'. */
  async status(responderUrl: string, serialHex: string, timeoutMs = 5000): Promise<OcspView> {
    try {
      const response = await fetch(`${responderUrl}/ocsp`, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: this.request(serialHex),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) return { status: 'error' };
      return parseOcspResponse(new Uint8Array(await response.arrayBuffer()));
    } catch {
      return { status: 'error' };
    }
  }
}

/** Status of the first SingleResponse of an OCSPResponse; hold = revoked with reason certificateHold. */
export function parseOcspResponse(der: Uint8Array): OcspView {
  const response = pkijs.OCSPResponse.fromBER(der);
  const responseStatus = response.responseStatus.valueBlock.valueDec;
  if (responseStatus === OCSP_RESPONSE_STATUS_TRY_LATER) return { status: 'tryLater' };
  if (responseStatus !== 0 || !response.responseBytes) return { status: 'error' };
  const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  const single = basic.tbsResponseData.responses[0];
  const certStatus = single.certStatus as asn1js.BaseBlock & { idBlock: { tagNumber: number }; valueBlock: { value?: asn1js.BaseBlock[] } };
  const nextUpdate = single.nextUpdate;
  const tag = certStatus.idBlock.tagNumber;
  if (tag === 0) return { status: 'good', nextUpdate };
  if (tag === 2) return { status: 'unknown', nextUpdate };
  // revoked [1] RevokedInfo { revocationTime, [0] EXPLICIT CRLReason OPTIONAL }
  const reasonWrapper = certStatus.valueBlock.value?.[1] as (asn1js.BaseBlock & { valueBlock: { value: asn1js.Enumerated[] } }) | undefined;
  const reason = reasonWrapper?.valueBlock.value[0]?.valueBlock.valueDec;
  return { status: reason === CERTIFICATE_HOLD ? 'hold' : 'revoked', nextUpdate };
}

/** The entries of a DER CRL: serial (lower-case hex, no leading zero octets) -> hold or revoked. */
export function crlEntries(der: Uint8Array): Map<string, 'hold' | 'revoked'> {
  const crl = pkijs.CertificateRevocationList.fromBER(der);
  const entries = new Map<string, 'hold' | 'revoked'>();
  for (const entry of crl.revokedCertificates ?? []) {
    const serial = Buffer.from(entry.userCertificate.valueBlock.valueHexView).toString('hex').replace(/^(00)+(?=[0-9a-f]{2})/, '');
    const reasonExtension = entry.crlEntryExtensions?.extensions.find((extension) => extension.extnID === '2.5.29.21');
    const reason = reasonExtension ? (asn1js.fromBER(reasonExtension.extnValue.valueBlock.valueHexView).result as asn1js.Enumerated).valueBlock.valueDec : undefined;
    entries.set(serial, reason === CERTIFICATE_HOLD ? 'hold' : 'revoked');
  }
  return entries;
}

/** What the database says a relying party must see. */
export function expectedStatus(databaseStatus: string): SeenStatus {
  if (databaseStatus === 'valid') return 'good';
  if (databaseStatus === 'suspended' || databaseStatus === 'on_hold') return 'hold';
  if (databaseStatus === 'revoked') return 'revoked';
  return 'unknown';
}

/** Serial hex as the database stores it (encode(serial, 'hex')), normalised like the views above. */
export function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=[0-9a-f]{2})/, '');
}
