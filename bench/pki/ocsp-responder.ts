/**
 * Benchmark: the OCSP hot path (RFC 6960, RFC 5019) on one core.
 *
 * Run (from the repository root):
 *
 *   npm run build && node dist/bench/pki/ocsp-responder.js
 *
 * Measures, for a request as `openssl ocsp` sends it (one SHA-1 CertID and a
 * 16-octet nonce): parsing with the hand-written reader (parseOcspRequest),
 * parsing with pkijs/asn1js for comparison, encoding a SingleResponse, and
 * a whole signed response (parse + SingleResponse + ResponseData + signature)
 * with a P-256 and an RSA-2048 responder key.
 */
import * as pkijs from 'pkijs';
import { OID } from '../../libs/pki/src/oids';
import {
  OcspResponseBuilder,
  encodeCertId,
  encodeSingleResponse,
  parseOcspRequest,
  revocationIssuerFromCertificate,
} from '../../libs/pki/src/revocation';
import { derExtension, derOctetString, derSequence, derTlv } from '../../libs/pki/src/revocation/der-encoding';
import { makeTestCertificate } from '../../libs/pki/src/revocation/testing/test-certificates';
import { SoftwareSigner } from '../../libs/pki/src/signing';

const NOW = new Date('2026-03-01T00:00:00Z');
const NEXT = new Date('2026-03-08T00:00:00Z');

function rate(label: string, iterations: number, body: () => void): void {
  for (let i = 0; i < Math.min(1000, iterations); i++) body();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${label.padEnd(58)} ${Math.round(iterations / seconds).toLocaleString('en').padStart(11)} /s`);
}

async function rateAsync(label: string, iterations: number, body: () => Promise<void>): Promise<void> {
  for (let i = 0; i < Math.min(200, iterations); i++) await body();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${label.padEnd(58)} ${Math.round(iterations / seconds).toLocaleString('en').padStart(11)} /s`);
}

async function main(): Promise<void> {
  const caSigner = await SoftwareSigner.generate('software:bench-ca', { kind: 'RSA', modulusBits: 2048 });
  const caCertificateDer = await makeTestCertificate({
    serial: 1n,
    commonName: 'MOICA Bench CA',
    subjectPublicKeySpki: caSigner.publicKeySpki,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2049-12-31T23:59:59Z'),
    role: 'ca',
    signer: caSigner,
  });
  const issuer = revocationIssuerFromCertificate(caCertificateDer);
  const certId = encodeCertId(issuer, 'sha1', 0x5a17c0ffee0001n);
  const nonce = derExtension(OID.idPkixOcspNonce, false, derOctetString(new Uint8Array(16).fill(0xab)));
  const request = derSequence(derSequence(derSequence(derSequence(certId)), derTlv(0xa2, derSequence(nonce))));

  console.log(`OCSP responder benchmark, Node ${process.version}, request of ${request.length} octets`);
  rate('parseOcspRequest (hand-written DER reader)', 1_000_000, () => {
    if (!parseOcspRequest(request).ok) throw new Error('refused');
  });
  rate('pkijs OCSPRequest.fromBER (comparison)', 50_000, () => {
    pkijs.OCSPRequest.fromBER(request);
  });
  rate('encodeSingleResponse (revoked, certificateHold)', 1_000_000, () => {
    encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'revoked', revokedAt: NOW, reason: 'certificateHold' }, thisUpdate: NOW, nextUpdate: NEXT });
  });
  for (const [label, key] of [
    ['P-256', { kind: 'EC', curve: 'P-256' }],
    ['RSA-2048', { kind: 'RSA', modulusBits: 2048 }],
  ] as const) {
    const signer = await SoftwareSigner.generate(`software:bench-ocsp-${label}`, key);
    const certificate = await makeTestCertificate({
      serial: 2n,
      commonName: 'MOICA Bench OCSP',
      subjectPublicKeySpki: signer.publicKeySpki,
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2049-12-31T23:59:59Z'),
      role: 'ocspResponder',
      issuer: { nameDer: issuer.nameDer, keyIdentifier: issuer.keyIdentifier },
      signer: caSigner,
    });
    const builder = new OcspResponseBuilder({ signer, signerCertificateDer: certificate });
    await rateAsync(`parse + answer + sign, ${label} responder`, 5_000, async () => {
      const parsed = parseOcspRequest(request);
      if (!parsed.ok) throw new Error('refused');
      const singleResponses = parsed.request.requests.map((r) =>
        encodeSingleResponse({ certIdDer: r.certIdDer, certStatus: { status: 'good' }, thisUpdate: NOW, nextUpdate: NEXT }),
      );
      await builder.build({ producedAt: NOW, singleResponses, nonce: parsed.request.nonce });
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
