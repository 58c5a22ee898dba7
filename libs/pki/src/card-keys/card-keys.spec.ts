import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { describeWithTools } from '../../../../test/support/system-tool';
import { Pkcs11Token } from '../signing/pkcs11-signer';
import { SOFTHSM2_DEFAULT_MODULE } from '../signing/softhsm-token';
import { createSoftHsmTestToken, SoftHsmTestToken } from '../signing/testing/softhsm-test-token';
import { aesCmac, aesCmacVerify } from './aes-cmac';
import { aesKeyUnwrap, aesKeyWrap } from './aes-key-wrap';
import { CardKeyError, deriveCardUnblockKey, SoftwareCardKeyDerivation } from './card-key-derivation';
import { cardUnblockKdfInput, cardUnblockMessage, newCardChallenge } from './card-unblock-protocol';
import { openCardKeyDerivation } from './open-card-key-derivation';
import { findAesSecretKey, generateCardMasterKey, importAesKey, Pkcs11CardKeyDerivation } from './pkcs11-card-key-derivation';
import { counterKdfBlock, counterModeKdf } from './sp800-108-kdf';
import { AesKeyFileError, decryptAesKeyFile, encryptAesKeyFile } from './software-aes-key';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// RFC 4493 §4 (AES-128) and NIST SP 800-38B Appendix D.3 (AES-256) examples.
const RFC4493_KEY = '2b7e151628aed2a6abf7158809cf4f3c';
const SP800_38B_AES256_KEY = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';
const M64 = `6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
             30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`;
const prefix = (bytes: number) => hex(M64).subarray(0, bytes).toString('hex');

describe('AES-CMAC', () => {
  it.each([
    ['RFC 4493 example 1 (empty)', RFC4493_KEY, '', 'bb1d6929e95937287fa37d129b756746'],
    ['RFC 4493 example 2 (16 bytes)', RFC4493_KEY, prefix(16), '070a16b46b4d4144f79bdd9dd04a287c'],
    ['RFC 4493 example 3 (40 bytes)', RFC4493_KEY, prefix(40), 'dfa66747de9ae63030ca32611497c827'],
    ['RFC 4493 example 4 (64 bytes)', RFC4493_KEY, prefix(64), '51f0bebf7e3b9d92fc49741779363cfe'],
    ['SP 800-38B D.3 example 9 (AES-256, empty)', SP800_38B_AES256_KEY, '', '028962f61b7bf89efc6b551f4667d983'],
    ['SP 800-38B D.3 example 10 (AES-256, 16 bytes)', SP800_38B_AES256_KEY, prefix(16), '28a7023f452e8f82bd4bf28d8c37c35c'],
    ['SP 800-38B D.3 example 11 (AES-256, 40 bytes)', SP800_38B_AES256_KEY, prefix(40), 'aaf3d8f1de5640c232f5b169b9c911e6'],
    ['SP 800-38B D.3 example 12 (AES-256, 64 bytes)', SP800_38B_AES256_KEY, prefix(64), 'e1992190549f6ed5696a2c056c315410'],
  ])('%s', (_name, key, message, tag) => {
    expect(aesCmac(hex(key), hex(message)).toString('hex')).toBe(tag);
    expect(aesCmacVerify(hex(key), hex(message), hex(tag))).toBe(true);
    const wrong = hex(tag);
    wrong[15] ^= 1;
    expect(aesCmacVerify(hex(key), hex(message), wrong)).toBe(false);
  });

  it('refuses keys that are not AES-128 or AES-256', () => {
    expect(() => aesCmac(Buffer.alloc(24), Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('AES Key Wrap (RFC 3394)', () => {
  it.each([
    // RFC 3394 §4.1 and §4.6
    ['4.1: 128 bits under a 128-bit KEK', '000102030405060708090a0b0c0d0e0f', '00112233445566778899aabbccddeeff', '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5'],
    [
      '4.6: 256 bits under a 256-bit KEK',
      '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
      '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f',
      '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21',
    ],
  ])('%s', (_name, kek, key, wrapped) => {
    expect(aesKeyWrap(hex(kek), hex(key)).toString('hex')).toBe(wrapped);
    expect(aesKeyUnwrap(hex(kek), hex(wrapped)).toString('hex')).toBe(key);
    const altered = hex(wrapped);
    altered[3] ^= 1;
    expect(() => aesKeyUnwrap(hex(kek), altered)).toThrow();
  });
});

describe('SP 800-108 counter-mode KDF with AES-CMAC', () => {
  it('lays out the fixed input as [i]_32 || Label || 0x00 || Context || [L]_32', () => {
    const block = counterKdfBlock(2, { label: Buffer.from('ab'), context: Buffer.from('cd'), lengthBits: 256 });
    expect(block.toString('hex')).toBe('00000002' + '6162' + '00' + '6364' + '00000100');
  });

  it('refuses lengths that are not whole bytes', async () => {
    await expect(counterModeKdf(async () => Buffer.alloc(16), { label: Buffer.alloc(0), context: Buffer.alloc(0), lengthBits: 12 })).rejects.toThrow(RangeError);
  });

  it("zeroes the PRF's outputs, also when the PRF fails half-way", async () => {
    const master = randomBytes(32);
    const seen: Buffer[] = [];
    const prf = async (input: Uint8Array) => {
      const output = aesCmac(master, input);
      seen.push(output);
      return output;
    };
    const key = await deriveCardUnblockKey(prf, { cardNumber: 'TP0300000000001', keyVersion: 1 });
    expect(key.equals(Buffer.alloc(32))).toBe(false);
    expect(seen).toHaveLength(2);
    for (const output of seen) expect(output.equals(Buffer.alloc(16))).toBe(true);

    const first: Buffer[] = [];
    const failing = async (input: Uint8Array) => {
      if (first.length > 0) throw new Error('token removed');
      first.push(aesCmac(master, input));
      return first[0];
    };
    await expect(deriveCardUnblockKey(failing, { cardNumber: 'TP0300000000001', keyVersion: 1 })).rejects.toThrow('token removed');
    expect(first[0].equals(Buffer.alloc(16))).toBe(true);
  });

  it('gives different keys to different cards and to different key versions', async () => {
    const master = randomBytes(32);
    const prf = async (input: Uint8Array) => aesCmac(master, input);
    const a = await deriveCardUnblockKey(prf, { cardNumber: 'TP0300000000001', keyVersion: 1 });
    const b = await deriveCardUnblockKey(prf, { cardNumber: 'TP0300000000002', keyVersion: 1 });
    const a2 = await deriveCardUnblockKey(prf, { cardNumber: 'TP0300000000001', keyVersion: 2 });
    expect(a).toHaveLength(32);
    expect(new Set([a, b, a2].map((k) => k.toString('hex'))).size).toBe(3);
    expect(await deriveCardUnblockKey(prf, { cardNumber: 'TP0300000000001', keyVersion: 1 })).toEqual(a);
  });

  it.each([
    [{ cardNumber: 'tp03', keyVersion: 1 }],
    [{ cardNumber: 'TP0300000000001', keyVersion: 0 }],
    [{ cardNumber: 'TP0300000000001', keyVersion: 1.5 }],
  ])('refuses a malformed card context %j', (card) => {
    expect(() => cardUnblockKdfInput(card)).toThrow(RangeError);
  });

  it('refuses a challenge of the wrong size', () => {
    expect(() => cardUnblockMessage({ cardNumber: 'TP0300000000001', keyVersion: 1 }, Buffer.alloc(15))).toThrow(RangeError);
  });
});

/**
 * A known answer for the whole protocol, computed outside this code with
 * OpenSSL 3.0 from the byte layout in docs/card-unlock.md:
 *
 *   openssl kdf -keylen 32 -kdfopt mac:CMAC -kdfopt cipher:AES-256-CBC -kdfopt hexkey:<master>
 *     -kdfopt hexsalt:<"MOICA card unblock key"> -kdfopt hexinfo:<"TP0300000000001" 00000001> KBKDF
 *   (and by hand: CMAC(master, 0000000i || label || 00 || context || 00000100), i = 1, 2)
 *   printf <message> | openssl mac -cipher AES-256-CBC -macopt hexkey:<card key> CMAC
 */
describe('card unblock protocol: a known answer from OpenSSL', () => {
  const master = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const card = { cardNumber: 'TP0300000000001', keyVersion: 1 };
  const challenge = hex('f0e0d0c0b0a090807060504030201000');
  const cardKey = 'bb61559d7da7e3e0ee27da5c3c140be573e0912e5f248c3d4bd05ee729980e4e';
  // "MOICA-UNBLOCK-1" 00 0f "TP0300000000001" 00000001 challenge
  const message = '4d4f4943412d554e424c4f434b2d31 00 0f 545030333030303030303030303031 00000001 f0e0d0c0b0a090807060504030201000';
  const response = '1a5beefca9b35b1a06661b5714af9628';

  it('derives the card key, builds the message and answers as documented', async () => {
    expect((await deriveCardUnblockKey(async (input) => aesCmac(master, input), card)).toString('hex')).toBe(cardKey);
    expect(cardUnblockMessage(card, challenge).toString('hex')).toBe(hex(message).toString('hex'));
    expect((await new SoftwareCardKeyDerivation('kat', master).macUnderCardKey(card, cardUnblockMessage(card, challenge))).toString('hex')).toBe(response);
  });

  it('gives another answer for another card number, key version or challenge', async () => {
    const software = new SoftwareCardKeyDerivation('kat', master);
    for (const [other, otherChallenge] of [
      [{ cardNumber: 'TP0300000000002', keyVersion: 1 }, challenge],
      [{ cardNumber: 'TP0300000000001', keyVersion: 2 }, challenge],
      [card, Buffer.from(challenge).fill(0xff, 15)],
    ] as const) {
      expect((await software.macUnderCardKey(other, cardUnblockMessage(other, otherChallenge))).toString('hex')).not.toBe(response);
    }
  });
});

describeWithTools(['openssl'], 'interoperability with OpenSSL 3 (CMAC, KBKDF)', () => {
  it('openssl mac CMAC gives the same tag for AES-128 and AES-256', () => {
    for (const key of [randomBytes(16), randomBytes(32)]) {
      const message = randomBytes(37);
      const cipher = key.length === 16 ? 'AES-128-CBC' : 'AES-256-CBC';
      const out = execFileSync('openssl', ['mac', '-cipher', cipher, '-macopt', `hexkey:${key.toString('hex')}`, 'CMAC'], {
        input: message,
        encoding: 'utf8',
      });
      expect(out.trim().toLowerCase()).toBe(aesCmac(key, message).toString('hex'));
    }
  });

  it('openssl kdf KBKDF (counter mode, CMAC) derives the same card key', async () => {
    const master = randomBytes(32);
    const card = { cardNumber: 'TP0300000000042', keyVersion: 7 };
    const input = cardUnblockKdfInput(card);
    const out = execFileSync(
      'openssl',
      ['kdf', '-keylen', '32', '-kdfopt', 'mac:CMAC', '-kdfopt', 'cipher:AES-256-CBC', '-kdfopt', `hexkey:${master.toString('hex')}`,
        '-kdfopt', `hexsalt:${Buffer.from(input.label).toString('hex')}`, '-kdfopt', `hexinfo:${Buffer.from(input.context).toString('hex')}`, 'KBKDF'],
      { encoding: 'utf8' },
    );
    const ours = await deriveCardUnblockKey(async (block) => aesCmac(master, block), card);
    expect(out.trim().replace(/:/g, '').toLowerCase()).toBe(ours.toString('hex'));
  });
});

describe('software AES key files', () => {
  it('round-trips under the passphrase and refuses a wrong one', () => {
    const key = randomBytes(32);
    const file = encryptAesKeyFile(key, 'correct horse');
    expect(file).not.toContain(key.toString('base64'));
    expect(decryptAesKeyFile(file, 'correct horse')).toEqual(key);
    expect(() => decryptAesKeyFile(file, 'wrong horse!')).toThrow(AesKeyFileError);
    expect(() => decryptAesKeyFile('{}', 'correct horse')).toThrow(AesKeyFileError);
  });

  it('opens a software derivation from key locations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moica-card-keys-'));
    try {
      const master = randomBytes(32);
      const transport = randomBytes(32);
      writeFileSync(join(dir, 'master.key'), encryptAesKeyFile(master, 'passphrase-1'));
      writeFileSync(join(dir, 'transport.key'), encryptAesKeyFile(transport, 'passphrase-1'));
      const opened = await openCardKeyDerivation(`software:${join(dir, 'master.key')}`, `software:${join(dir, 'transport.key')}`, { passphrase: 'passphrase-1' }, (p) => readFile(p, 'utf8'));
      const reference = new SoftwareCardKeyDerivation('reference', master, transport);
      const card = { cardNumber: 'TP0300000000001', keyVersion: 1 };
      const message = cardUnblockMessage(card, newCardChallenge());
      expect(await opened.macUnderCardKey(card, message)).toEqual(await reference.macUnderCardKey(card, message));
      const wrapped = await opened.wrapCardKeyForBureau(card);
      expect(aesKeyUnwrap(transport, wrapped)).toEqual(await deriveCardUnblockKey(async (b) => aesCmac(master, b), card));
      await expect(
        openCardKeyDerivation(`software:${join(dir, 'master.key')}`, undefined, { passphrase: 'passphrase-2' }, (p) => readFile(p, 'utf8')),
      ).rejects.toThrow(CardKeyError);
      await expect(new SoftwareCardKeyDerivation('no-transport', master).wrapCardKeyForBureau(card)).rejects.toThrow('no bureau transport key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithTools(['softhsm2-util'], 'card keys in SoftHSM2', () => {
  let testToken: SoftHsmTestToken;
  let token: Pkcs11Token;
  const masterValue = randomBytes(32);
  const transportValue = randomBytes(32);

  beforeAll(async () => {
    // eslint-disable-next-line no-restricted-syntax -- softhsm2-util runs with the test process's PATH
    testToken = await createSoftHsmTestToken(process.env, 'moica-card-keys', '135790');
    token = await Pkcs11Token.open({ modulePath: SOFTHSM2_DEFAULT_MODULE, tokenLabel: 'moica-card-keys', pin: '135790' });
    await importAesKey(token, 'known-master', masterValue, 'cmac', Buffer.from('01', 'hex'));
    await importAesKey(token, 'bureau-transport', transportValue, 'wrap', Buffer.from('02', 'hex'));
    await generateCardMasterKey(token, 'generated-master', Buffer.from('03', 'hex'));
  });

  afterAll(async () => {
    await token?.close();
    testToken?.remove();
  });

  it('computes the same responses and the same wrapped keys as the software implementation for the same master key', async () => {
    const hsm = await Pkcs11CardKeyDerivation.open(token, 'known-master', { transportKeyLabel: 'bureau-transport', acceptImportedKey: true });
    const software = new SoftwareCardKeyDerivation('software', masterValue, transportValue);
    for (const card of [
      { cardNumber: 'TP0300000000001', keyVersion: 1 },
      { cardNumber: 'KH9900000000123', keyVersion: 4 },
    ]) {
      const message = cardUnblockMessage(card, newCardChallenge());
      expect(await hsm.macUnderCardKey(card, message)).toEqual(await software.macUnderCardKey(card, message));
      // RFC 3394 is deterministic: CKM_AES_KEY_WRAP and node's id-aes256-wrap give the same bytes.
      expect(await hsm.wrapCardKeyForBureau(card)).toEqual(await software.wrapCardKeyForBureau(card));
    }
    await hsm.close();
  });

  it('generates master keys that cannot be read or wrapped out of the token', async () => {
    const info = await findAesSecretKey(token, 'generated-master');
    expect(info).toMatchObject({ valueBytes: 32, sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true });
    await token.withSession((pkcs11, session) => {
      pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'generated-master' }]);
      const [handle] = pkcs11.C_FindObjects(session, 1);
      pkcs11.C_FindObjectsFinal(session);
      expect(() => pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/SENSITIVE|ATTRIBUTE/);
    });
    const generated = await Pkcs11CardKeyDerivation.open(token, 'generated-master');
    const card = { cardNumber: 'TP0300000000001', keyVersion: 1 };
    const message = cardUnblockMessage(card, newCardChallenge());
    const tag = await generated.macUnderCardKey(card, message);
    expect(tag).toHaveLength(16);
    // A different master key gives a different card key.
    expect(tag).not.toEqual(await new SoftwareCardKeyDerivation('software', masterValue).macUnderCardKey(card, message));
    await expect(generated.wrapCardKeyForBureau(card)).rejects.toThrow('no bureau transport key');
  });

  it('refuses an imported master key unless told otherwise, a missing key, and a label in use', async () => {
    await expect(Pkcs11CardKeyDerivation.open(token, 'known-master')).rejects.toThrow('not generated in the token');
    await expect(Pkcs11CardKeyDerivation.open(token, 'no-such-key')).rejects.toThrow('no secret key labelled');
    await expect(Pkcs11CardKeyDerivation.open(token, 'bureau-transport', { acceptImportedKey: true })).rejects.toThrow('may not sign');
    await expect(generateCardMasterKey(token, 'generated-master', Buffer.from('04', 'hex'))).rejects.toThrow('already holds');
  });

  it.each([
    ['CKA_DERIVE', pkcs11js.CKA_DERIVE],
    ['CKA_ENCRYPT', pkcs11js.CKA_ENCRYPT],
    ['CKA_DECRYPT', pkcs11js.CKA_DECRYPT],
    ['CKA_WRAP', pkcs11js.CKA_WRAP],
    ['CKA_UNWRAP', pkcs11js.CKA_UNWRAP],
  ])('refuses a generated, sensitive master key that also allows %s', async (name, attribute) => {
    const label = `too-capable-${name}`;
    await token.withReadWriteSession((pkcs11, session) =>
      pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        // SoftHSM2 takes an unnamed use as allowed: name each one, the one under test allowed.
        ...[pkcs11js.CKA_DERIVE, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_WRAP, pkcs11js.CKA_UNWRAP].map((type) => ({ type, value: type === attribute })),
      ]),
    );
    await expect(Pkcs11CardKeyDerivation.open(token, label)).rejects.toThrow(`may be used for more than CMAC (${name} true)`);
  });

  it('refuses a master key that is only a session object', async () => {
    // Pooled sessions stay open, and session objects are visible to every session of this application.
    const handle = await token.withSession((pkcs11, session) =>
      pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_WRAP, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
        { type: pkcs11js.CKA_LABEL, value: 'session-master' },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      ]),
    );
    expect(handle).toBeDefined();
    // It goes with its session when the token is closed.
    await expect(Pkcs11CardKeyDerivation.open(token, 'session-master')).rejects.toThrow('session object');
  });

  it('opens from a pkcs11: key location and refuses a transport key on another kind of store', async () => {
    const location = `pkcs11:token=moica-card-keys;object=known-master?module-path=${SOFTHSM2_DEFAULT_MODULE}`;
    const opened = await openCardKeyDerivation(location, `pkcs11:token=moica-card-keys;object=bureau-transport?module-path=${SOFTHSM2_DEFAULT_MODULE}`, { pin: '135790' }, (p) => readFile(p, 'utf8'), { acceptImportedKey: true });
    const card = { cardNumber: 'TP0300000000009', keyVersion: 2 };
    expect(aesKeyUnwrap(transportValue, await opened.wrapCardKeyForBureau(card))).toEqual(await deriveCardUnblockKey(async (b) => aesCmac(masterValue, b), card));
    await opened.close();
    await expect(openCardKeyDerivation(location, 'software:/nonexistent', { pin: '135790' }, (p) => readFile(p, 'utf8'))).rejects.toThrow('same kind');
  });
});
