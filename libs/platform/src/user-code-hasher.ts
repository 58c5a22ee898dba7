import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * User codes (用戶代碼) are never stored in a recoverable form (DOMAIN.md):
 * scrypt (RFC 7914) with a per-code random salt, compared in constant time.
 * Stored as `scrypt$N$r$p$salt$hash` (base64) so parameters can be raised
 * later without breaking existing hashes.
 */
export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/** OWASP's 2023 minimum for scrypt: N=2^17, r=8, p=1 (128 MiB). */
export const DEFAULT_SCRYPT: ScryptParameters = { N: 2 ** 17, r: 8, p: 1 };

export class UserCodeHasher {
  private placeholder: Promise<string> | undefined;

  constructor(private readonly parameters: ScryptParameters = DEFAULT_SCRYPT) {}

  /**
   * A hash of a random code under this hasher's parameters (made once), to
   * verify against when there is no holder: the same scrypt work as a real
   * check, so the answer's timing does not say whether a national ID is a
   * holder's. (A fixed placeholder with other parameters would be faster or
   * slower than the real hashes.)
   */
  placeholderHash(): Promise<string> {
    this.placeholder ??= this.hash(randomBytes(24).toString('base64'));
    return this.placeholder;
  }

  async hash(userCode: string): Promise<string> {
    const salt = randomBytes(16);
    const hash = await derive(userCode, salt, this.parameters);
    const { N, r, p } = this.parameters;
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
  }

  /** True when `userCode` matches `stored`. Always does the full derivation, whatever the input. */
  async verify(userCode: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error('unknown user-code hash format');
    const [N, r, p] = parts.slice(1, 4).map(Number);
    const salt = Buffer.from(parts[4], 'base64');
    const expected = Buffer.from(parts[5], 'base64');
    const actual = await derive(userCode, salt, { N, r, p });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

function derive(userCode: string, salt: Buffer, { N, r, p }: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(userCode.normalize('NFC'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
