import { createPublicKey, verify } from 'node:crypto';
import { algorithmIdentifierDer, assembleSigned, splitSigned } from './signed-structure';
import { SoftwareSigner } from './software-signer';
import { SignatureAlgorithm, SigningError } from './signer';
import { derSequence, derUnsignedInteger } from './der';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('algorithmIdentifierDer', () => {
  it.each<[SignatureAlgorithm, string]>([
    // RFC 4055 §5: NULL parameters
    ['sha256WithRSAEncryption', '300d06092a864886f70d01010b0500'],
    // RFC 5758 §3.2: parameters absent
    ['ecdsaWithSHA256', '300a06082a8648ce3d040302'],
    ['ecdsaWithSHA384', '300a06082a8648ce3d040303'],
  ])('%s', (algorithm, expected) => {
    expect(hex(algorithmIdentifierDer(algorithm))).toBe(expected);
  });
});

describe('assembleSigned', () => {
  it.each([
    ['RSA-2048', { kind: 'RSA', modulusBits: 2048 } as const, 'sha256'],
    ['P-256', { kind: 'EC', curve: 'P-256' } as const, 'sha256'],
    ['P-384', { kind: 'EC', curve: 'P-384' } as const, 'sha384'],
  ])('wraps the TBS byte for byte and the signature verifies (%s)', async (_name, key, hash) => {
    const signer = await SoftwareSigner.generate('software:test', key);
    // A large TBS to exercise long-form lengths.
    const tbs = derSequence(derUnsignedInteger(Uint8Array.of(1)), new Uint8Array(300).fill(0x05));
    const signed = await assembleSigned(tbs, signer);
    const parts = splitSigned(signed);
    expect(hex(parts.tbsDer)).toBe(hex(tbs));
    expect(hex(parts.algorithmIdentifierDer)).toBe(hex(algorithmIdentifierDer(signer.signatureAlgorithm)));
    const publicKey = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
    expect(verify(hash, tbs, { key: publicKey, dsaEncoding: 'der' }, parts.signature)).toBe(true);
  });

  it.each([
    ['not a SEQUENCE', Uint8Array.of(0x02, 0x01, 0x01)],
    ['trailing bytes', Uint8Array.of(0x30, 0x00, 0x00)],
    ['truncated', Uint8Array.of(0x30, 0x05, 0x00)],
  ])('refuses a TBS that is %s', async (_name, tbs) => {
    const signer = await SoftwareSigner.generate('software:test', { kind: 'EC', curve: 'P-256' });
    await expect(assembleSigned(tbs, signer)).rejects.toThrow(SigningError);
  });
});
