/**
 * AES Key Wrap (RFC 3394, NIST SP 800-38F KW) with the default initial value
 * A6A6A6A6A6A6A6A6, through node:crypto's id-aes128-wrap / id-aes256-wrap.
 * The same bytes as PKCS#11 CKM_AES_KEY_WRAP without an IV parameter.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** RFC 3394 §2.2.3.1 default initial value. */
const DEFAULT_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function algorithm(kek: Uint8Array): string {
  if (kek.length === 16) return 'id-aes128-wrap';
  if (kek.length === 32) return 'id-aes256-wrap';
  throw new RangeError(`a key-encryption key is 16 or 32 bytes, not ${kek.length}`);
}

/** Wraps `keyData` (a multiple of 8 bytes, at least 16) under `kek`. */
export function aesKeyWrap(kek: Uint8Array, keyData: Uint8Array): Buffer {
  if (keyData.length < 16 || keyData.length % 8 !== 0) throw new RangeError('RFC 3394 wraps at least 16 bytes, in multiples of 8');
  const cipher = createCipheriv(algorithm(kek), kek, DEFAULT_IV);
  return Buffer.concat([cipher.update(keyData), cipher.final()]);
}

/** Unwraps; throws when the integrity check (the initial value) fails. */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const decipher = createDecipheriv(algorithm(kek), kek, DEFAULT_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}
