import { OID } from '../oids';
import { DER_NULL, DER_TRUE, TAG, derExtension, derObjectIdentifier, derOctetString, derSequence, derTlv } from './der-encoding';
import { MAX_OCSP_REQUEST_ENTRIES, OcspRequestErrorCode, OcspRequestParseResult, parseOcspRequest } from './ocsp-request-parser';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const NAME_HASH_1 = new Uint8Array(20).fill(0x11);
const KEY_HASH_1 = new Uint8Array(20).fill(0x22);
const NAME_HASH_256 = new Uint8Array(32).fill(0x33);
const KEY_HASH_256 = new Uint8Array(32).fill(0x44);

interface CertIdSpec {
  algorithm?: Uint8Array;
  nameHash?: Uint8Array;
  keyHash?: Uint8Array;
  serial?: Uint8Array; // INTEGER content
  singleExtensions?: Uint8Array[];
}

const sha1Algorithm = derSequence(derObjectIdentifier(OID.sha1), DER_NULL);
const sha256Algorithm = derSequence(derObjectIdentifier(OID.sha256)); // parameters absent (RFC 5754)

function certId(spec: CertIdSpec = {}): Uint8Array {
  return derSequence(
    spec.algorithm ?? sha1Algorithm,
    derOctetString(spec.nameHash ?? NAME_HASH_1),
    derOctetString(spec.keyHash ?? KEY_HASH_1),
    derTlv(TAG.integer, spec.serial ?? Uint8Array.of(0x5a, 0x17, 0xc0, 0xff, 0xee, 0x01)),
  );
}

interface RequestSpec {
  certIds?: CertIdSpec[];
  version?: Uint8Array;
  requestorName?: boolean;
  extensions?: Uint8Array[];
  signature?: Uint8Array;
  trailing?: Uint8Array;
}

const nonceExtension = (nonce: Uint8Array, critical = false) => derExtension(OID.idPkixOcspNonce, critical, derOctetString(nonce));

/** An OCSPRequest (RFC 6960 §4.1.1) built field by field, so each test can break one field. */
function request(spec: RequestSpec = {}): Uint8Array {
  const requests = (spec.certIds ?? [{}]).map((c) =>
    c.singleExtensions ? derSequence(certId(c), derTlv(0xa0, derSequence(...c.singleExtensions))) : derSequence(certId(c)),
  );
  const tbs: Uint8Array[] = [];
  if (spec.version) tbs.push(derTlv(0xa0, spec.version));
  if (spec.requestorName) tbs.push(derTlv(0xa1, derTlv(0x82, new TextEncoder().encode('client.example.tw'))));
  tbs.push(derSequence(...requests));
  if (spec.extensions) tbs.push(derTlv(0xa2, derSequence(...spec.extensions)));
  const outer = [derSequence(...tbs)];
  if (spec.signature) outer.push(spec.signature);
  const der = derSequence(...outer);
  return spec.trailing ? Uint8Array.from([...der, ...spec.trailing]) : der;
}

function ok(result: OcspRequestParseResult) {
  if (!result.ok) throw new Error(`expected a parsed request, got ${result.error.code}: ${result.error.detail}`);
  return result.request;
}

describe('parseOcspRequest (RFC 6960 §4.1.1, RFC 5019, RFC 8954)', () => {
  it('reads a SHA-1 CertID and a nonce, as OpenSSL sends them', () => {
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const der = request({ extensions: [nonceExtension(nonce)] });
    const parsed = ok(parseOcspRequest(der));
    expect(parsed.signed).toBe(false);
    expect(hex(parsed.nonce!)).toBe(hex(nonce));
    expect(parsed.requests).toHaveLength(1);
    const [entry] = parsed.requests;
    expect(entry.hashAlgorithm).toBe('sha1');
    expect(hex(entry.issuerNameHash)).toBe(hex(NAME_HASH_1));
    expect(hex(entry.issuerKeyHash)).toBe(hex(KEY_HASH_1));
    expect(hex(entry.serialNumber)).toBe('5a17c0ffee01');
    expect(entry.serialHex).toBe('5a17c0ffee01');
    expect(hex(entry.certIdDer)).toBe(hex(certId()));
  });

  it('reads several CertIDs, SHA-256 with absent parameters, and serials with a sign octet', () => {
    const parsed = ok(
      parseOcspRequest(
        request({
          certIds: [{}, { algorithm: sha256Algorithm, nameHash: NAME_HASH_256, keyHash: KEY_HASH_256, serial: Uint8Array.of(0x00, 0xd0, 0xc0) }, { serial: Uint8Array.of(0x00) }],
        }),
      ),
    );
    expect(parsed.nonce).toBeUndefined();
    expect(parsed.requests.map((r) => [r.hashAlgorithm, r.serialHex, hex(r.serialNumber)])).toEqual([
      ['sha1', '5a17c0ffee01', '5a17c0ffee01'],
      ['sha256', 'd0c0', '00d0c0'],
      ['sha1', '00', '00'],
    ]);
  });

  it.each([
    ['an explicit v1 version', { version: Uint8Array.of(0x02, 0x01, 0x00) }],
    ['a requestorName', { requestorName: true }],
    ['an unknown non-critical extension', { extensions: [derExtension('1.2.3.4', false, DER_NULL)] }],
    ['a critical nonce', { extensions: [nonceExtension(Uint8Array.of(1), true)] }],
    ['a 32-octet nonce', { extensions: [nonceExtension(new Uint8Array(32).fill(7))] }],
    ['an explicit critical FALSE', { extensions: [derSequence(derObjectIdentifier('1.2.3.4'), Uint8Array.of(0x01, 0x01, 0x00), derOctetString(DER_NULL))] }],
    ['a non-critical single request extension', { certIds: [{ singleExtensions: [derExtension('1.3.6.1.5.5.7.48.1.7', false, DER_NULL)] }] }],
    [`${MAX_OCSP_REQUEST_ENTRIES} CertIDs`, { certIds: Array.from({ length: MAX_OCSP_REQUEST_ENTRIES }, () => ({})) }],
  ])('accepts %s', (_name, spec: RequestSpec) => {
    expect(parseOcspRequest(request(spec)).ok).toBe(true);
  });

  it('accepts a signed request without verifying it (optionalSignature)', () => {
    const signature = derTlv(
      0xa0,
      derSequence(
        derSequence(derObjectIdentifier(OID.ecdsaWithSHA256)),
        derTlv(TAG.bitString, Uint8Array.of(0, 1, 2, 3)),
        derTlv(0xa0, derSequence(derSequence(derSequence(), derSequence(), derTlv(TAG.bitString, Uint8Array.of(0))))),
      ),
    );
    expect(ok(parseOcspRequest(request({ signature }))).signed).toBe(true);
  });

  it.each<[string, Uint8Array, OcspRequestErrorCode]>([
    ['empty input', new Uint8Array(0), 'malformed'],
    ['trailing bytes', request({ trailing: Uint8Array.of(0) }), 'malformed'],
    ['an indefinite length', Uint8Array.of(0x30, 0x80, 0x00, 0x00), 'malformed'],
    ['an empty requestList', derSequence(derSequence(derSequence())), 'malformed'],
    ['too many CertIDs', request({ certIds: Array.from({ length: MAX_OCSP_REQUEST_ENTRIES + 1 }, () => ({})) }), 'tooManyRequests'],
    ['an MD5 CertID', request({ certIds: [{ algorithm: derSequence(derObjectIdentifier('1.2.840.113549.2.5'), DER_NULL) }] }), 'unsupportedHashAlgorithm'],
    ['SHA-1 hashes of 32 octets', request({ certIds: [{ nameHash: NAME_HASH_256, keyHash: KEY_HASH_256 }] }), 'malformed'],
    ['SHA-256 hashes of 20 octets', request({ certIds: [{ algorithm: sha256Algorithm }] }), 'malformed'],
    ['hash parameters that are not NULL', request({ certIds: [{ algorithm: derSequence(derObjectIdentifier(OID.sha1), derObjectIdentifier('1.2.3')) }] }), 'malformed'],
    ['a NULL with content', request({ certIds: [{ algorithm: derSequence(derObjectIdentifier(OID.sha1), Uint8Array.of(0x05, 0x01, 0x00)) }] }), 'malformed'],
    ['a negative serial', request({ certIds: [{ serial: Uint8Array.of(0x80, 0x01) }] }), 'malformed'],
    ['a non-minimal serial', request({ certIds: [{ serial: Uint8Array.of(0x00, 0x01) }] }), 'malformed'],
    ['an empty serial', request({ certIds: [{ serial: new Uint8Array(0) }] }), 'malformed'],
    ['a 33-octet serial', request({ certIds: [{ serial: new Uint8Array(33).fill(1) }] }), 'malformed'],
    ['an empty nonce', request({ extensions: [nonceExtension(new Uint8Array(0))] }), 'invalidNonce'],
    ['a 33-octet nonce', request({ extensions: [nonceExtension(new Uint8Array(33))] }), 'invalidNonce'],
    ['a bare nonce (not an OCTET STRING)', request({ extensions: [derExtension(OID.idPkixOcspNonce, false, new Uint8Array(16).fill(9))] }), 'invalidNonce'],
    ['a nonce with trailing bytes', request({ extensions: [derExtension(OID.idPkixOcspNonce, false, Uint8Array.of(0x04, 0x01, 0x07, 0x00))] }), 'invalidNonce'],
    ['two nonces', request({ extensions: [nonceExtension(Uint8Array.of(1)), nonceExtension(Uint8Array.of(2))] }), 'malformed'],
    ['an empty Extensions', request({ extensions: [] }), 'malformed'],
    ['an unknown critical extension', request({ extensions: [derExtension('1.2.3.4', true, DER_NULL)] }), 'unsupportedCriticalExtension'],
    ['an unknown critical single extension', request({ certIds: [{ singleExtensions: [derExtension('1.2.3.4', true, DER_NULL)] }] }), 'unsupportedCriticalExtension'],
    ['a BOOLEAN that is neither TRUE nor FALSE', request({ extensions: [derSequence(derObjectIdentifier('1.2.3.4'), Uint8Array.of(0x01, 0x01, 0x01), derOctetString(DER_NULL))] }), 'malformed'],
    ['version 2', request({ version: Uint8Array.of(0x02, 0x01, 0x01) }), 'malformed'],
    ['a signature that is not a Signature', request({ signature: derTlv(0xa0, derSequence(DER_TRUE)) }), 'malformed'],
    ['a request over the size limit', request({ extensions: [derExtension('1.2.3.4', false, new Uint8Array(70_000))] }), 'tooLarge'],
  ])('refuses %s', (_name, der, code) => {
    const result = parseOcspRequest(der);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.detail.length).toBeGreaterThan(0);
    }
  });

  it('honours a lower CertID limit and refuses what is not bytes', () => {
    const three = request({ certIds: [{}, {}, {}] });
    expect(parseOcspRequest(three, { maxEntries: 2 })).toMatchObject({ ok: false, error: { code: 'tooManyRequests' } });
    expect(parseOcspRequest('MEMwQTA/' as unknown as Uint8Array)).toMatchObject({ ok: false, error: { code: 'malformed' } });
  });

  describe('fuzzing: 20,000 random and mutated inputs never throw', () => {
    // mulberry32: a seeded generator, so a failure can be replayed.
    function random(seed: number): () => number {
      let a = seed >>> 0;
      return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }

    const seeds = [
      request({ extensions: [nonceExtension(new Uint8Array(16).fill(0xab))] }),
      request({ certIds: [{}, { algorithm: sha256Algorithm, nameHash: NAME_HASH_256, keyHash: KEY_HASH_256 }], requestorName: true, version: Uint8Array.of(2, 1, 0) }),
      request({ certIds: [{ singleExtensions: [derExtension('1.2.3.4', false, DER_NULL)] }], signature: derTlv(0xa0, derSequence(derSequence(derObjectIdentifier(OID.ecdsaWithSHA256)), derTlv(TAG.bitString, Uint8Array.of(0, 1)))) }),
    ];
    const codes = new Set<OcspRequestErrorCode>(['malformed', 'tooLarge', 'tooManyRequests', 'unsupportedHashAlgorithm', 'invalidNonce', 'unsupportedCriticalExtension']);

    function mutate(next: () => number, input: Uint8Array): Uint8Array {
      const bytes = Array.from(input);
      const rounds = 1 + Math.floor(next() * 4);
      for (let r = 0; r < rounds; r++) {
        const at = Math.floor(next() * (bytes.length + 1));
        switch (Math.floor(next() * 7)) {
          case 0: // flip a bit
            if (bytes.length) bytes[at % bytes.length] ^= 1 << Math.floor(next() * 8);
            break;
          case 1: // set an interesting byte (lengths, tags)
            if (bytes.length) bytes[at % bytes.length] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x30, 0xa0, 0x04][Math.floor(next() * 10)];
            break;
          case 2: // insert
            bytes.splice(at, 0, Math.floor(next() * 256));
            break;
          case 3: // delete
            bytes.splice(at, 1 + Math.floor(next() * 4));
            break;
          case 4: // truncate
            bytes.length = Math.min(bytes.length, at);
            break;
          case 5: {
            // duplicate a slice (repeats elements)
            const from = Math.floor(next() * bytes.length);
            bytes.splice(at, 0, ...bytes.slice(from, from + 1 + Math.floor(next() * 12)));
            break;
          }
          default: // random length octet at a random place
            if (bytes.length > 1) bytes[at % bytes.length] = 0x80 | Math.floor(next() * 8);
        }
      }
      return Uint8Array.from(bytes);
    }

    it('holds its contract on every input', () => {
      const next = random(20261128);
      const tally = { ok: 0, refused: 0 };
      for (let i = 0; i < 20_000; i++) {
        let input: Uint8Array;
        if (i % 5 === 0) {
          input = Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
          if (next() < 0.5 && input.length > 0) input[0] = 0x30;
        } else {
          input = mutate(next, seeds[i % seeds.length]);
        }
        let result: OcspRequestParseResult;
        try {
          result = parseOcspRequest(input);
        } catch (error) {
          throw new Error(`parseOcspRequest threw on input ${i} (${hex(input)}): ${String(error)}`);
        }
        if (result.ok) {
          tally.ok++;
          const { requests, nonce } = result.request;
          expect(requests.length).toBeGreaterThanOrEqual(1);
          expect(requests.length).toBeLessThanOrEqual(MAX_OCSP_REQUEST_ENTRIES);
          for (const entry of requests) {
            const length = entry.hashAlgorithm === 'sha1' ? 20 : 32;
            expect([entry.issuerNameHash.length, entry.issuerKeyHash.length]).toEqual([length, length]);
            expect(entry.serialHex).toMatch(/^[0-9a-f]+$/);
            expect(entry.certIdDer.buffer).toBe(input.buffer);
          }
          if (nonce) expect(nonce.length).toBeGreaterThanOrEqual(1);
          if (nonce) expect(nonce.length).toBeLessThanOrEqual(32);
        } else {
          tally.refused++;
          expect(codes.has(result.error.code)).toBe(true);
        }
      }
      // Both outcomes are exercised: the mutations are not all fatal, nor all harmless.
      expect(tally.ok).toBeGreaterThan(100);
      expect(tally.refused).toBeGreaterThan(10_000);
    });
  });
});
