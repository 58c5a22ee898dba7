import { createHash, createPublicKey, verify } from 'node:crypto';
import * as pkijs from 'pkijs';
import { OID } from '../oids';
import { subjectPublicKeyOf } from './certificate-fields';
import { encodeCertId } from './ocsp-cert-id';
import {
  OCSP_INTERNAL_ERROR,
  OCSP_MALFORMED_REQUEST,
  OCSP_TRY_LATER,
  OCSP_UNAUTHORIZED,
  ocspErrorResponse,
} from './ocsp-error-responses';
import { parseOcspRequest } from './ocsp-request-parser';
import { OcspResponseBuilder } from './ocsp-response-builder';
import { encodeSingleResponse, OcspCertStatus } from './ocsp-single-response';
import { createTestPki, TestPki } from './testing/test-pki';

const hex = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
const THIS_UPDATE = new Date('2026-03-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-03-08T00:00:00Z');
const PRODUCED_AT = new Date('2026-03-01T00:00:05Z');
const GT = (iso: string) => `180f${hex(Buffer.from(iso.replace(/[-:T]/g, '').replace(/\.\d+/, '')))}`;

describe('OCSP responses (RFC 6960 §4.2.1)', () => {
  let pki: TestPki;
  let certId: Uint8Array;

  beforeAll(async () => {
    pki = await createTestPki();
    certId = encodeCertId(pki.issuer, 'sha1', pki.leaves.good.serial);
  });

  describe('encodeCertId', () => {
    it('names a certificate the way OpenSSL does: SHA-1 with NULL parameters, the CA name and key hashes', () => {
      const sha1 = pki.issuer.certIdHashes.sha1;
      expect(hex(certId)).toBe(
        `3040300906052b0e03021a0500` + `0414${hex(sha1.nameHash)}` + `0414${hex(sha1.keyHash)}` + '02075a17c0ffee0001',
      );
      // issuerKeyHash: the hash of the CA's subjectPublicKey bits, excluding tag, length and unused-bits octet.
      expect(hex(sha1.keyHash)).toBe(createHash('sha1').update(subjectPublicKeyOf(pki.caSigner.publicKeySpki)).digest('hex'));
      expect(hex(sha1.nameHash)).toBe(createHash('sha1').update(pki.issuer.nameDer).digest('hex'));
    });

    it('is what the request parser reads back', () => {
      const der = encodeCertId(pki.issuer, 'sha256', 0xd0c0ffee0002n);
      const request = Uint8Array.from([0x30, der.length + 6, 0x30, der.length + 4, 0x30, der.length + 2, 0x30, der.length, ...der]);
      const parsed = parseOcspRequest(request);
      expect(parsed.ok && parsed.request.requests[0]).toMatchObject({ hashAlgorithm: 'sha256', serialHex: 'd0c0ffee0002' });
    });
  });

  describe('encodeSingleResponse', () => {
    it.each<[string, OcspCertStatus, string]>([
      ['good', { status: 'good' }, '8000'],
      ['unknown', { status: 'unknown' }, '8200'],
      ['revoked, reason keyCompromise', { status: 'revoked', revokedAt: new Date('2026-02-10T08:30:00Z'), reason: 'keyCompromise' }, `a116${GT('2026-02-10T08:30:00Z')}a0030a0101`],
      ['suspended: certificateHold', { status: 'revoked', revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 'certificateHold' }, `a116${GT('2026-02-11T09:00:00Z')}a0030a0106`],
      ['revoked, unspecified: no reason', { status: 'revoked', revokedAt: new Date('2026-02-12T10:00:00Z'), reason: 'unspecified' }, `a111${GT('2026-02-12T10:00:00Z')}`],
      ['revoked, no reason', { status: 'revoked', revokedAt: new Date('2026-02-12T10:00:00Z') }, `a111${GT('2026-02-12T10:00:00Z')}`],
    ])('%s', (_name, certStatus, statusHex) => {
      const der = encodeSingleResponse({ certIdDer: certId, certStatus, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE });
      const content = `${hex(certId)}${statusHex}${GT('2026-03-01T00:00:00Z')}a011${GT('2026-03-08T00:00:00Z')}`;
      expect(hex(der)).toBe(`30${(content.length / 2).toString(16)}${content}`);
    });

    it('leaves nextUpdate out when not given', () => {
      const der = encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'good' }, thisUpdate: THIS_UPDATE });
      expect(hex(der).endsWith(`8000${GT('2026-03-01T00:00:00Z')}`)).toBe(true);
    });

    it.each<[string, () => Uint8Array]>([
      ['removeFromCRL as a reason', () => encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'revoked', revokedAt: THIS_UPDATE, reason: 'removeFromCRL' }, thisUpdate: THIS_UPDATE })],
      ['nextUpdate before thisUpdate', () => encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'good' }, thisUpdate: NEXT_UPDATE, nextUpdate: THIS_UPDATE })],
      ['a CertID that is not a SEQUENCE', () => encodeSingleResponse({ certIdDer: Uint8Array.of(4, 0), certStatus: { status: 'good' }, thisUpdate: THIS_UPDATE })],
    ])('refuses %s', (_name, encode) => {
      expect(encode).toThrow(RangeError);
    });
  });

  describe('OcspResponseBuilder', () => {
    async function buildAndParse(nonce?: Uint8Array) {
      const builder = new OcspResponseBuilder({ signer: pki.responderSigner, signerCertificateDer: pki.responderCertificateDer });
      const singles = [
        encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'good' }, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE }),
        encodeSingleResponse({
          certIdDer: encodeCertId(pki.issuer, 'sha1', pki.leaves.suspended.serial),
          certStatus: { status: 'revoked', revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 'certificateHold' },
          thisUpdate: THIS_UPDATE,
          nextUpdate: NEXT_UPDATE,
        }),
      ];
      const der = await builder.build({ producedAt: PRODUCED_AT, singleResponses: singles, nonce });
      const response = pkijs.OCSPResponse.fromBER(der);
      expect(response.responseStatus.valueBlock.valueDec).toBe(0);
      expect(response.responseBytes?.responseType).toBe(OID.idPkixOcspBasic);
      const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes!.response.valueBlock.valueHexView);
      return { der, basic };
    }

    it('signs a BasicOCSPResponse named byKey, with the responder certificate and one SingleResponse per CertID', async () => {
      const { basic } = await buildAndParse();
      const data = basic.tbsResponseData;
      const expectedKeyHash = createHash('sha1').update(subjectPublicKeyOf(pki.responderSigner.publicKeySpki)).digest('hex');
      expect(data.responderID).toBeDefined();
      expect(hex(basic.tbsResponseData.tbsView).includes(`a2160414${expectedKeyHash}`)).toBe(true);
      expect(data.producedAt.toISOString()).toBe('2026-03-01T00:00:05.000Z');
      expect(data.responses.map((r) => hex(r.certID.serialNumber.valueBlock.valueHexView))).toEqual([
        pki.leaves.good.serial.toString(16).padStart(14, '0'),
        pki.leaves.suspended.serial.toString(16).padStart(14, '0'),
      ]);
      expect(data.responseExtensions).toBeUndefined();
      expect(basic.certs?.length).toBe(1);
      expect(hex(basic.certs![0].toSchema().toBER())).toBe(hex(pki.responderCertificateDer));
      expect(basic.signatureAlgorithm.algorithmId).toBe(OID.ecdsaWithSHA256);
      const publicKey = createPublicKey({ key: Buffer.from(pki.responderSigner.publicKeySpki), format: 'der', type: 'spki' });
      expect(
        verify('sha256', basic.tbsResponseData.tbsView, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(basic.signature.valueBlock.valueHexView)),
      ).toBe(true);
    });

    it('echoes the nonce in responseExtensions (RFC 8954 §2.1)', async () => {
      const nonce = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
      const { basic } = await buildAndParse(nonce);
      const extensions = basic.tbsResponseData.responseExtensions!;
      expect(extensions.map((e) => [e.extnID, e.critical])).toEqual([[OID.idPkixOcspNonce, false]]);
      expect(hex(extensions[0].extnValue.valueBlock.valueHexView)).toBe(`0420${hex(nonce)}`);
    });

    it('refuses a certificate that is not the signer key, an empty response list and a bad nonce', async () => {
      expect(() => new OcspResponseBuilder({ signer: pki.responderSigner, signerCertificateDer: pki.caCertificateDer })).toThrow(/not for the signer's key/);
      expect(() => new OcspResponseBuilder({ signer: pki.responderSigner, signerCertificateDer: Uint8Array.of(0x30, 0x00) })).toThrow(RangeError);
      const builder = new OcspResponseBuilder({ signer: pki.caSigner, signerCertificateDer: pki.caCertificateDer });
      await expect(builder.build({ producedAt: PRODUCED_AT, singleResponses: [] })).rejects.toThrow(/at least one SingleResponse/);
      const single = encodeSingleResponse({ certIdDer: certId, certStatus: { status: 'good' }, thisUpdate: THIS_UPDATE });
      await expect(builder.build({ producedAt: PRODUCED_AT, singleResponses: [single], nonce: new Uint8Array(33) })).rejects.toThrow(/nonce of 33 octets/);
    });
  });

  describe('unsigned error responses (RFC 6960 §2.3)', () => {
    it.each([
      ['malformedRequest', OCSP_MALFORMED_REQUEST, '30030a0101'],
      ['internalError', OCSP_INTERNAL_ERROR, '30030a0102'],
      ['tryLater', OCSP_TRY_LATER, '30030a0103'],
      ['unauthorized', OCSP_UNAUTHORIZED, '30030a0106'],
    ] as const)('%s', (status, constant, expected) => {
      expect(hex(constant)).toBe(expected);
      expect(ocspErrorResponse(status)).toBe(constant);
      expect(pkijs.OCSPResponse.fromBER(constant).responseBytes).toBeUndefined();
    });
  });
});
