import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithTools } from '../../../../test/support/system-tool';
import { ecdsaRawToDer, openPkcs11Signer, Pkcs11Signer, Pkcs11Token } from './pkcs11-signer';
import { KeyAlgorithm, SigningError } from './signer';
import { SOFTHSM2_DEFAULT_MODULE } from './softhsm-token';
import { createSoftHsmTestToken, SoftHsmTestToken } from './testing/softhsm-test-token';

const TOKEN = 'moica-test';
const PIN = '246810';

function verifies(signer: Pkcs11Signer, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
  const hash = signer.signatureAlgorithm === 'ecdsaWithSHA384' ? 'sha384' : 'sha256';
  return verify(hash, data, { key, dsaEncoding: 'der' }, signature);
}

describe('ecdsaRawToDer', () => {
  it.each([
    // X.690 §8.3.2: a 0x00 before a set top bit, no superfluous leading zeros
    ['8001', '300702020080020101'],
    ['0080', '300702010002020080'],
    ['00017f7f', '300702010102027f7f'],
  ])('%s', (raw, expected) => {
    expect(Buffer.from(ecdsaRawToDer(Buffer.from(raw, 'hex'))).toString('hex')).toBe(expected);
  });

  it('matches what node:crypto produces for the same signature', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const data = Buffer.from('tbs');
    const raw = cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const der = cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    // Two signatures differ (random k), so check that ours verifies as DER.
    expect(verify('sha256', data, { key: privateKey, dsaEncoding: 'der' }, ecdsaRawToDer(raw))).toBe(true);
    expect(der[0]).toBe(0x30);
    expect(raw).toHaveLength(64);
  });
});

describeWithTools(['softhsm2-util'], 'Pkcs11Token on SoftHSM2', () => {
  let testToken: SoftHsmTestToken;
  let directory: string;
  let token: Pkcs11Token;
  let concurrentOpens: PromiseSettledResult<Pkcs11Token>[];

  beforeAll(async () => {
    // eslint-disable-next-line no-restricted-syntax -- softhsm2-util runs with the test process's PATH
    testToken = await createSoftHsmTestToken(process.env, TOKEN, PIN);
    directory = testToken.directory;
    // Before anyone is logged in, so that C_Login itself sees the wrong PIN; concurrently with
    // a right PIN, which must not ride on the other's login state (PKCS#11 §5.6).
    const open = (pin: string) => Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: TOKEN, pin });
    concurrentOpens = await Promise.allSettled([open('97531'), open(PIN), open('86420')]);
    for (const result of concurrentOpens) if (result.status === 'fulfilled') await result.value.close();
    token = await Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: TOKEN, pin: PIN });
  });

  afterAll(async () => {
    await token?.close();
    testToken?.remove();
  });

  it.each<[string, KeyAlgorithm, string]>([
    ['rsa-2048', { kind: 'RSA', modulusBits: 2048 }, 'sha256WithRSAEncryption'],
    ['p-256', { kind: 'EC', curve: 'P-256' }, 'ecdsaWithSHA256'],
    ['p-384', { kind: 'EC', curve: 'P-384' }, 'ecdsaWithSHA384'],
  ])('generates a non-extractable %s key in the token and signs with it', async (label, keyAlgorithm, algorithm) => {
    const signer = await token.generateKeyPair(label, keyAlgorithm);
    expect(signer.keyLabel).toBe(`pkcs11:${TOKEN}/${label}`);
    expect(signer.keyAlgorithm).toEqual(keyAlgorithm);
    expect(signer.signatureAlgorithm).toBe(algorithm);
    const spkiKey = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
    expect(spkiKey.asymmetricKeyType).toBe(keyAlgorithm.kind === 'RSA' ? 'rsa' : 'ec');

    const data = Buffer.from(`a TBSCertificate signed by ${label}`);
    const signature = await signer.sign(data);
    expect(verifies(signer, data, signature)).toBe(true);

    const info = await token.findKey(label);
    expect(info).toMatchObject({
      label,
      keyAlgorithm,
      sensitive: true,
      extractable: false,
      alwaysSensitive: true,
      neverExtractable: true,
      hasPublicKeyObject: true,
    });
    expect(Buffer.from(await token.publicKeySpki(label)).equals(Buffer.from(signer.publicKeySpki))).toBe(true);
  });

  it('lists the keys and finds them again by label after a new open', async () => {
    const keys = await token.listKeys();
    expect(keys.map((key) => key.label)).toEqual(expect.arrayContaining(['p-256', 'p-384', 'rsa-2048']));
    const again = await openPkcs11Signer({
      modulePath: SOFTHSM2_DEFAULT_MODULE,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'p-256',
    });
    const data = Buffer.from('reopened');
    expect(verifies(again, data, await again.sign(data))).toBe(true);
    await again.close();
    // The shared module stays usable for the token opened first.
    const first = await token.signer('p-256');
    expect(verifies(first, data, await first.sign(data))).toBe(true);
  });

  it.each([
    ['p-256', 'ecdsa'],
    ['rsa-2048', 'rsa'],
  ])('makes 200 concurrent signatures with %s that all verify', async (label) => {
    const signer = await token.signer(label);
    const inputs = Array.from({ length: 200 }, (_, i) => Buffer.from(`certificate number ${i}`));
    const signatures = await Promise.all(inputs.map((data) => signer.sign(data)));
    expect(signatures.filter((signature, i) => verifies(signer, inputs[i], signature))).toHaveLength(200);
  });

  it('says it checks its signatures unless told not to verify each one', async () => {
    expect((await token.signer('rsa-2048')).checksItsSignatures).toBe(true);
    expect((await token.signer('rsa-2048', { verifyEachSignature: false })).checksItsSignatures).toBe(false);
  });

  it('gives the same RSA signature with CKM_RSA_PKCS over a DigestInfo as with CKM_SHA256_RSA_PKCS', async () => {
    const hsmHashes = await token.signer('rsa-2048');
    const softwareHashes = await token.signer('rsa-2048', { rsaMechanism: 'CKM_RSA_PKCS' });
    const data = Buffer.alloc(1_000_000, 7); // a large CRL-sized input
    expect(Buffer.from(await softwareHashes.sign(data)).equals(Buffer.from(await hsmHashes.sign(data)))).toBe(true);
  });

  it.each<[string, () => Promise<unknown>, RegExp]>([
    [
      'a wrong PIN',
      () => Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: TOKEN, pin: '000000' }),
      /pkcs11:moica-test: the PIN is wrong/,
    ],
    [
      'an unknown token',
      () => Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: 'nope', pin: PIN }),
      /no token labelled "nope" \(tokens present: "moica-test"\)/,
    ],
    [
      'a missing module',
      () => Pkcs11Token.open({ modulePath: '/nonexistent/libpkcs11.so', tokenLabel: TOKEN, pin: PIN }),
      /cannot load the PKCS#11 module \/nonexistent\/libpkcs11.so/,
    ],
    ['a missing key', () => token.signer('no-such-key'), /no private key labelled "no-such-key" on token "moica-test"/],
    [
      'a label already in use',
      () => token.generateKeyPair('p-256', { kind: 'EC', curve: 'P-256' }),
      /already holds 2 object\(s\) labelled "p-256"/,
    ],
  ])('fails with a SigningError for %s', async (_name, action, message) => {
    const failure = action();
    await expect(failure).rejects.toThrow(SigningError);
    await expect(failure).rejects.toThrow(message);
  });

  it('fails with a SigningError when the token was closed under the signer', async () => {
    const second = await Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: TOKEN, pin: PIN });
    const signer = await second.signer('p-256');
    await second.close();
    const failure = signer.sign(Buffer.from('late'));
    await expect(failure).rejects.toThrow(SigningError);
    await expect(failure).rejects.toThrow('signing with pkcs11:moica-test/p-256: C_Sign failed: the token is closed');
    // The first token is untouched.
    const first = await token.signer('p-256');
    expect(verifies(first, Buffer.from('x'), await first.sign(Buffer.from('x')))).toBe(true);
  });

  it('refuses wrong PINs given concurrently with the right one, without the PIN in the message', () => {
    const [firstWrong, right, laterWrong] = concurrentOpens;
    expect(right.status).toBe('fulfilled');
    expect(firstWrong).toMatchObject({ status: 'rejected', reason: expect.any(SigningError) });
    expect(String((firstWrong as PromiseRejectedResult).reason.message)).toMatch(
      /pkcs11:moica-test: the PIN is wrong \(the token may lock/,
    );
    expect(laterWrong).toMatchObject({ status: 'rejected', reason: expect.any(SigningError) });
    expect(String((laterWrong as PromiseRejectedResult).reason.message)).toMatch(/the PIN is wrong/);
    for (const result of [firstWrong, laterWrong]) {
      expect(String((result as PromiseRejectedResult).reason.message)).not.toMatch(/97531|86420/);
    }
  });

  it('lists a key of a size a CA may not use, and says why, but refuses to sign with it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = join(directory, 'weak.pem');
    writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('softhsm2-util', ['--import', pem, '--token', TOKEN, '--label', 'weak', '--id', 'b2', '--pin', PIN], {
      stdio: 'ignore',
    });
    const weak = (await token.listKeys()).find((key) => key.label === 'weak');
    expect(weak).toMatchObject({ id: 'b2', keyAlgorithm: undefined });
    expect(weak?.unsupportedReason).toMatch(/RSA key of 1024 bits is not allowed/);
    await expect(token.signer('weak', { acceptImportedKey: true })).rejects.toThrow(/RSA key of 1024 bits is not allowed/);
  });

  it('refuses a key imported from software unless told to accept it', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = join(directory, 'imported.pem');
    writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('softhsm2-util', ['--import', pem, '--token', TOKEN, '--label', 'imported', '--id', 'a1', '--pin', PIN], {
      stdio: 'ignore',
    });
    const info = await token.findKey('imported');
    expect(info).toMatchObject({ sensitive: true, extractable: false, alwaysSensitive: false, neverExtractable: false });
    await expect(token.signer('imported')).rejects.toThrow(/imported, not generated in the HSM/);
    const accepted = await token.signer('imported', { acceptImportedKey: true });
    const data = Buffer.from('imported');
    expect(verifies(accepted, data, await accepted.sign(data))).toBe(true);
  });
});
