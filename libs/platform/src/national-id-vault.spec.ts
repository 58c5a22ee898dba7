import { randomBytes } from 'node:crypto';
import { NationalIdVault } from './national-id-vault';
import { UserCodeHasher } from './user-code-hasher';

describe('NationalIdVault', () => {
  const vault = new NationalIdVault(randomBytes(32), randomBytes(32));

  it('round-trips, and the ciphertext reveals nothing of the number', () => {
    const sealed = vault.encrypt('A123456789', 'holder-1');
    expect(sealed.toString('latin1')).not.toContain('123456789');
    expect(vault.decrypt(sealed, 'holder-1')).toBe('A123456789');
    expect(vault.encrypt('A123456789', 'holder-1').equals(sealed)).toBe(false);
  });

  it('refuses a ciphertext moved to another row or altered', () => {
    const sealed = vault.encrypt('A123456789', 'holder-1');
    expect(() => vault.decrypt(sealed, 'holder-2')).toThrow();
    sealed[sealed.length - 1] ^= 1;
    expect(() => vault.decrypt(sealed, 'holder-1')).toThrow();
  });

  it('gives one stable look-up hash per number, case-insensitive, and another key gives another', () => {
    expect(vault.lookupHash('a123456789')).toEqual(vault.lookupHash('A123456789'));
    expect(vault.lookupHash('A123456789')).not.toEqual(vault.lookupHash('A123456780'));
    expect(new NationalIdVault(randomBytes(32), randomBytes(32)).lookupHash('A123456789')).not.toEqual(
      vault.lookupHash('A123456789'),
    );
  });
});

describe('UserCodeHasher', () => {
  // Small parameters keep the test fast; production uses DEFAULT_SCRYPT.
  const hasher = new UserCodeHasher({ N: 1024, r: 8, p: 1 });

  it('verifies the right code only, case-sensitively', async () => {
    const stored = await hasher.hash('Ab%123@x');
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(stored).not.toContain('Ab%123@x');
    await expect(hasher.verify('Ab%123@x', stored)).resolves.toBe(true);
    await expect(hasher.verify('ab%123@x', stored)).resolves.toBe(false);
    await expect(hasher.verify('', stored)).resolves.toBe(false);
  });

  it('has a placeholder hash with its own parameters, that no code matches, for the unknown-holder path', async () => {
    const placeholder = await hasher.placeholderHash();
    expect(placeholder).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await hasher.placeholderHash()).toBe(placeholder);
    expect(await new UserCodeHasher({ N: 2048, r: 8, p: 1 }).placeholderHash()).toMatch(/^scrypt\$2048\$8\$1\$/);
    await expect(hasher.verify('Ab%123@x', placeholder)).resolves.toBe(false);
  });

  it('salts: the same code hashes differently each time', async () => {
    expect(await hasher.hash('Ab%123@x')).not.toBe(await hasher.hash('Ab%123@x'));
  });
});
