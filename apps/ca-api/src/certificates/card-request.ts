import { CertificationRequest, parseCertificationRequest } from '@moica/pki';
import { pkiProblem } from '../common/refusals';

/**
 * A PKCS#10 request made by the card (PEM, or base64 DER as card middleware
 * sends it), proof of possession checked; a refusal names the request.
 */
export function parseCardRequest(input: string, which: string): CertificationRequest {
  const parsed = parseCertificationRequest(input.includes('-----BEGIN') ? input : new Uint8Array(Buffer.from(input, 'base64')));
  if (!parsed.ok) throw pkiProblem(parsed.code, `${which} request: ${parsed.detail}`);
  return parsed.csr;
}
