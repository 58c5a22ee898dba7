/**
 * Builds the load generator's requests: for `count` serials sampled at
 * random from a serials file (bench/ocsp/seed.ts), a DER OCSPRequest with
 * one SHA-1 CertID of the issuing CA and no nonce, as `openssl ocsp
 * -no_nonce` sends it; one per line in hex.
 *
 *   node dist/bench/ocsp/make-requests.js <issuing-ca.crt.pem> <serials.txt> <out.hex> [count=100000] [--nonce]
 */
import '../../tools/module-aliases';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { OID, encodeCertId, revocationIssuerFromCertificate } from '@moica/pki';
import { derExtension, derOctetString, derSequence, derTlv } from '../../libs/pki/src/revocation/der-encoding';

/** OCSPRequest { TBSRequest { requestList { Request { CertID } }, [2] nonce? } }. */
export function ocspRequestDer(certId: Uint8Array, nonce?: Uint8Array): Uint8Array {
  const extensions = nonce ? [derTlv(0xa2, derSequence(derExtension(OID.idPkixOcspNonce, false, derOctetString(nonce))))] : [];
  return derSequence(derSequence(derSequence(derSequence(certId)), ...extensions));
}

function main(): void {
  const [caPem, serialsFile, out, countText] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const withNonce = process.argv.includes('--nonce');
  const base64 = readFileSync(caPem, 'utf8').replace(/-----[^-]+-----|\s+/g, '');
  const issuer = revocationIssuerFromCertificate(new Uint8Array(Buffer.from(base64, 'base64')));
  const serials = readFileSync(serialsFile, 'utf8').split('\n').filter(Boolean);
  const count = Number(countText ?? '100000');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const content = serials[Math.floor(Math.random() * serials.length)];
    const magnitude = content.startsWith('00') ? content.slice(2) : content;
    const certId = encodeCertId(issuer, 'sha1', magnitude);
    lines.push(Buffer.from(ocspRequestDer(certId, withNonce ? randomBytes(16) : undefined)).toString('hex'));
  }
  writeFileSync(out, lines.join('\n') + '\n');
}

if (require.main === module) main();
