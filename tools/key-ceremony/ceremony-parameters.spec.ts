import { parseQuorum } from './approvals';
import {
  canonicalJson,
  formatDistinguishedName,
  parametersDigest,
  parseDistinguishedName,
  validateParameters,
} from './ceremony-parameters';

describe('parseDistinguishedName', () => {
  it.each([
    ['C=TW, O=內政部, CN=內政部憑證管理中心', [{ type: 'C', value: 'TW' }, { type: 'O', value: '內政部' }, { type: 'CN', value: '內政部憑證管理中心' }]],
    ['CN=A\\, B,C=TW', [{ type: 'CN', value: 'A, B' }, { type: 'C', value: 'TW' }]],
    ['C=TW, serialNumber=0001', [{ type: 'C', value: 'TW' }, { type: 'serialNumber', value: '0001' }]],
  ])('%s', (text, expected) => {
    expect(parseDistinguishedName(text)).toEqual(expected);
    expect(parseDistinguishedName(formatDistinguishedName(expected as never))).toEqual(expected);
  });

  it.each([
    ['CN', /is not TYPE=value/],
    ['L=Taipei', /is not TYPE=value/],
    ['C=Taiwan', /not ISO 3166 alpha-2/],
    ['CN=', /is empty/],
  ])('refuses %s', (text, message) => {
    expect(() => parseDistinguishedName(text)).toThrow(message);
  });
});

describe('parseQuorum (KEY_CEREMONY_QUORUM)', () => {
  it.each([
    [undefined, 2],
    ['', 2],
    ['2', 2],
    [' 3 ', 3],
  ])('%s -> %s', (value, quorum) => expect(parseQuorum(value)).toBe(quorum));

  it.each(['1', '0', '-2', 'two', '2.5'])('refuses %s: one operator alone never creates or uses a CA key', (value) => {
    expect(() => parseQuorum(value)).toThrow(/at least 2 operators/);
  });
});

describe('parameters digest', () => {
  it('does not depend on key order (jsonb reorders keys)', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }] })).toBe('{"a":[{"c":null,"d":"x"}],"b":1}');
    expect(parametersDigest('create-root', { a: 1, b: 2 })).toBe(parametersDigest('create-root', { b: 2, a: 1 }));
    expect(parametersDigest('create-root', { a: 1 })).not.toBe(parametersDigest('create-issuing', { a: 1 }));
    expect(parametersDigest('create-root', { a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('validateParameters', () => {
  const root = {
    name: 'root-2026',
    subject: 'C=TW, CN=Root',
    keyLocation: 'pkcs11:token=t;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so',
    keyAlgorithm: 'RSA-4096',
    validityYears: '20',
  };

  it('normalises a create-root request', () => {
    expect(validateParameters('create-root', root)).toEqual({
      name: 'root-2026',
      subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'Root' }],
      keyLocation: root.keyLocation,
      keyAlgorithm: 'RSA-4096',
      validityYears: 20,
    });
  });

  it('fills in the defaults of create-issuing (GPKI class 3 policy) and rotate-ocsp-signer (30 days)', () => {
    expect(validateParameters('create-issuing', { ...root, parent: 'external' })).toMatchObject({
      parent: 'external',
      crlUrls: [],
      policyOids: ['2.16.886.101.0.3.3'],
    });
    expect(validateParameters('rotate-ocsp-signer', { ca: 'issuing', subject: 'CN=OCSP', keyLocation: 'software:/k.pem', keyAlgorithm: 'EC-P-256' })).toMatchObject({
      validityDays: 30,
    });
  });

  it.each<[string, string, Record<string, unknown>, RegExp]>([
    ['an unknown algorithm', 'create-root', { ...root, keyAlgorithm: 'RSA-1024' }, /RSA-1024" is not one of/],
    ['a PIN in the key location', 'create-root', { ...root, keyLocation: `${root.keyLocation}&pin-value=1234` }, /pin-value is refused/],
    ['a bad CA name', 'create-root', { ...root, name: 'root ca' }, /CA name "root ca"/],
    ['a validity of 0 years', 'create-root', { ...root, validityYears: 0 }, /validityYears must be an integer from 1 to 30/],
    ['a parent that is neither local nor external', 'create-issuing', { ...root, parent: 'grca' }, /must be local:<root CA name> or external/],
    ['a long-lived OCSP signer', 'rotate-ocsp-signer', { ca: 'i', subject: 'CN=O', keyLocation: 'software:/k', keyAlgorithm: 'EC-P-256', validityDays: 365 }, /validityDays must be an integer from 1 to 90/],
    ['a certificate that is not DER', 'import-parent-certificate', { name: 'i', certificate: 'aGVsbG8=', parentCertificate: 'aGVsbG8=' }, /DER certificate in base64/],
  ])('refuses %s', (_name, operation, parameters, message) => {
    expect(() => validateParameters(operation as never, parameters)).toThrow(message);
  });
});
