import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { SoftwareSigner } from './software-signer';

const PASSPHRASE = 'software-signer-spec';

describe('SoftwareSigner', () => {
  it('checks its own RSA signatures, and leaves ECDSA signatures to the caller', async () => {
    expect((await SoftwareSigner.generate('spec:rsa', { kind: 'RSA', modulusBits: 2048 })).checksItsSignatures).toBe(true);
    expect((await SoftwareSigner.generate('spec:ec', { kind: 'EC', curve: 'P-256' })).checksItsSignatures).toBe(false);
  });

  // What checksItsSignatures rests on for RSA: a wrong CRT result (here from a corrupted
  // d mod (p-1), as a fault would give) is caught inside OpenSSL and recomputed, so the
  // signature still verifies. An OpenSSL without that check would return a signature
  // that does not verify, and one that reveals a factor of the modulus (Boneh, DeMillo, Lipton).
  it('returns a valid RSA signature even when its CRT computation goes wrong', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
    const jwk = privateKey.export({ format: 'jwk' });
    const dp = Buffer.from(jwk.dp as string, 'base64url');
    dp[dp.length - 1] ^= 0x02;
    const faulty = createPrivateKey({ key: { ...jwk, dp: dp.toString('base64url') }, format: 'jwk' });
    const pem = faulty.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }).toString();
    const signer = SoftwareSigner.fromEncryptedPem('spec:faulty-crt', pem, PASSPHRASE);
    expect(Buffer.from(signer.publicKeySpki).equals(publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);

    const data = Buffer.from('a TBSCertificate');
    const signature = await signer.sign(data);
    expect(verify('sha256', data, createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' }), signature)).toBe(true);
  });
});
