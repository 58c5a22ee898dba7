import { createPublicKey, verify } from 'node:crypto';
import { describeWithTools } from '../../../../test/support/system-tool';
import {
  formatKeyLocation,
  InvalidKeyLocation,
  KeyLocation,
  openSigner,
  parseKeyLocation,
  ReadKeyFile,
} from './key-location';
import { Pkcs11Token } from './pkcs11-signer';
import { Signer, SigningError } from './signer';
import { SoftwareSigner } from './software-signer';
import { createSoftHsmTestToken, SoftHsmTestToken } from './testing/softhsm-test-token';

const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';

function verifies(signer: Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
  return verify(signer.signatureAlgorithm === 'ecdsaWithSHA384' ? 'sha384' : 'sha256', data, { key, dsaEncoding: 'der' }, signature);
}

describe('parseKeyLocation', () => {
  it.each<[string, KeyLocation]>([
    ['software:/etc/moica/dev/root-ca.key.pem', { kind: 'software', path: '/etc/moica/dev/root-ca.key.pem' }],
    ['software:keys/issuing.pem', { kind: 'software', path: 'keys/issuing.pem' }],
    [
      `pkcs11:token=MOICA%20CA;object=issuing-ca-2026?module-path=${SOFTHSM}`,
      { kind: 'pkcs11', modulePath: SOFTHSM, tokenLabel: 'MOICA CA', objectLabel: 'issuing-ca-2026' },
    ],
    [
      `pkcs11:object=root;type=private;token=t1?pin-source=file:/run/secrets/pin&module-path=${SOFTHSM}`,
      { kind: 'pkcs11', modulePath: SOFTHSM, tokenLabel: 't1', objectLabel: 'root', pinSource: 'file:/run/secrets/pin' },
    ],
    [
      'pkcs11:token=a+b%3Bc;object=%E5%85%A7%E6%94%BF%E9%83%A8?module-path=/opt/hsm/lib.so',
      { kind: 'pkcs11', modulePath: '/opt/hsm/lib.so', tokenLabel: 'a+b;c', objectLabel: '內政部' },
    ],
  ])('%s', (text, expected) => {
    expect(parseKeyLocation(text)).toEqual(expected);
    expect(parseKeyLocation(formatKeyLocation(expected))).toEqual(expected);
  });

  it.each([
    ['', /expected software:<path> or pkcs11:token=/],
    ['file:/tmp/key.pem', /expected software:<path> or pkcs11:/],
    ['software:', /expected software:<path to an encrypted PKCS#8 PEM>/],
    ['pkcs11:token=t;object=o', /"module-path" is required/],
    ['pkcs11:object=o?module-path=/m.so', /"token" is required/],
    ['pkcs11:token=t?module-path=/m.so', /"object" is required/],
    ['pkcs11:token=t;object=o;object=p?module-path=/m.so', /"object" is given twice/],
    ['pkcs11:token=t;objcet=o?module-path=/m.so', /unknown path attribute "objcet"/],
    ['pkcs11:token=t;object=o?module=/m.so', /unknown query attribute "module"/],
    ['pkcs11:token=t;object=o;type=cert?module-path=/m.so', /type=cert: a CA key location names the private key/],
    ['pkcs11:token=t;object=o?module-path=/m.so&pin-value=1234', /pin-value is refused/],
    ['pkcs11:token=t;object=%E0?module-path=/m.so', /invalid percent-encoding/],
    ['pkcs11:token;object=o?module-path=/m.so', /"token" is not name=value/],
  ])('refuses %j', (text, message) => {
    expect(() => parseKeyLocation(text)).toThrow(InvalidKeyLocation);
    expect(() => parseKeyLocation(text)).toThrow(message);
  });
});

describe('openSigner with a software key', () => {
  let pem: string;
  const files: Record<string, string> = {};
  const readFile: ReadKeyFile = async (path) => {
    if (!(path in files)) throw new Error(`ENOENT: ${path}`);
    return files[path];
  };

  beforeAll(async () => {
    const signer = await SoftwareSigner.generate('software:dev', { kind: 'EC', curve: 'P-256' });
    pem = signer.exportEncryptedPem('correct horse battery');
    files['/keys/issuing.pem'] = pem;
  });

  it('opens the key with its passphrase and signs', async () => {
    const signer = await openSigner('software:/keys/issuing.pem', { passphrase: 'correct horse battery' }, readFile);
    expect(signer.keyLabel).toBe('software:/keys/issuing.pem');
    const data = Buffer.from('tbs');
    expect(verifies(signer, data, await signer.sign(data))).toBe(true);
  });

  it.each([
    ['no passphrase', 'software:/keys/issuing.pem', {}, /software:\/keys\/issuing.pem: no passphrase was given/],
    ['a wrong passphrase', 'software:/keys/issuing.pem', { passphrase: 'wrong one!' }, /cannot decrypt the private key/],
    ['a missing file', 'software:/keys/missing.pem', { passphrase: 'x' }, /cannot read \/keys\/missing.pem/],
  ])('fails with a SigningError for %s', async (_name, location, secrets, message) => {
    const failure = openSigner(location, secrets, readFile);
    await expect(failure).rejects.toThrow(SigningError);
    await expect(failure).rejects.toThrow(message);
  });
});

describeWithTools(['softhsm2-util'], 'openSigner with a PKCS#11 key on SoftHSM2', () => {
  let testToken: SoftHsmTestToken;

  beforeAll(async () => {
    // eslint-disable-next-line no-restricted-syntax -- softhsm2-util runs with the test process's PATH
    testToken = await createSoftHsmTestToken(process.env, 'location-test');
    const token = await Pkcs11Token.open({ modulePath: SOFTHSM, tokenLabel: 'location-test', pin: testToken.pin });
    await token.generateKeyPair('ocsp signer 1', { kind: 'EC', curve: 'P-256' });
    await token.close();
  });

  afterAll(() => testToken?.remove());

  const location = `pkcs11:token=location-test;object=ocsp%20signer%201?module-path=${SOFTHSM}&pin-source=env:HSM_PIN`;

  it('opens the key named by the location and signs', async () => {
    const signer = await openSigner(location, { pin: testToken.pin }, async () => {
      throw new Error('a PKCS#11 location reads no file');
    });
    expect(signer.keyLabel).toBe('pkcs11:location-test/ocsp signer 1');
    expect(signer.keyAlgorithm).toEqual({ kind: 'EC', curve: 'P-256' });
    const data = Buffer.from('tbs');
    expect(verifies(signer, data, await signer.sign(data))).toBe(true);
    await signer.close();
  });

  it.each([
    ['no PIN', {}, /no PIN was given for the PKCS#11 token/],
    ['a wrong PIN', { pin: '999999' }, /the PIN is wrong/],
  ])('fails with a SigningError for %s', async (_name, secrets, message) => {
    const failure = openSigner(location, secrets, async () => '');
    await expect(failure).rejects.toThrow(SigningError);
    await expect(failure).rejects.toThrow(message);
  });
});
