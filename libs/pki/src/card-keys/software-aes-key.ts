/**
 * AES keys for development at rest (`software:<path>` locations of card
 * master keys and bureau transport keys): the key wrapped with AES Key Wrap
 * (RFC 3394) under a key derived from a passphrase with scrypt (RFC 7914).
 * The key wrap's integrity check tells a wrong passphrase from a good one.
 * A development format only; production keys live in an HSM.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { aesKeyUnwrap, aesKeyWrap } from './aes-key-wrap';

const FORMAT = 'moica-encrypted-aes-key/1';
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** An encrypted AES key file that cannot be opened. */
export class AesKeyFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AesKeyFileError';
  }
}

/** The file content (JSON) for `key` (16 or 32 bytes) under `passphrase`. */
export function encryptAesKeyFile(key: Uint8Array, passphrase: string): string {
  if (key.length !== 16 && key.length !== 32) throw new RangeError('an AES key is 16 or 32 bytes');
  if (passphrase.length < 8) throw new AesKeyFileError('the passphrase must have at least 8 characters');
  const salt = randomBytes(16);
  const kek = scryptSync(passphrase, salt, 32, SCRYPT);
  try {
    return `${JSON.stringify({
      format: FORMAT,
      kdf: { name: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64') },
      wrap: 'id-aes256-wrap',
      wrappedKey: aesKeyWrap(kek, key).toString('base64'),
    })}\n`;
  } finally {
    kek.fill(0);
  }
}

/** The AES key in a file written by encryptAesKeyFile. */
export function decryptAesKeyFile(content: string, passphrase: string): Buffer {
  let parsed: { format?: unknown; kdf?: { N?: unknown; r?: unknown; p?: unknown; salt?: unknown }; wrappedKey?: unknown };
  try {
    parsed = JSON.parse(content);
  } catch (cause) {
    throw new AesKeyFileError(`not a ${FORMAT} file`, { cause });
  }
  const { kdf, wrappedKey } = parsed;
  if (parsed.format !== FORMAT || !kdf || typeof kdf.salt !== 'string' || typeof wrappedKey !== 'string') {
    throw new AesKeyFileError(`not a ${FORMAT} file`);
  }
  const [N, r, p] = [kdf.N, kdf.r, kdf.p];
  if (![N, r, p].every((v) => Number.isInteger(v)) || (N as number) > 2 ** 20 || (r as number) > 32 || (p as number) > 16) {
    throw new AesKeyFileError('unsupported scrypt parameters');
  }
  const kek = scryptSync(passphrase, Buffer.from(kdf.salt, 'base64'), 32, { N: N as number, r: r as number, p: p as number, maxmem: SCRYPT.maxmem * 4 });
  try {
    const key = aesKeyUnwrap(kek, Buffer.from(wrappedKey, 'base64'));
    if (key.length !== 16 && key.length !== 32) throw new AesKeyFileError('the file holds no AES-128 or AES-256 key');
    return key;
  } catch (cause) {
    if (cause instanceof AesKeyFileError) throw cause;
    throw new AesKeyFileError('the passphrase is wrong or the file was altered', { cause });
  } finally {
    kek.fill(0);
  }
}
