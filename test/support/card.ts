import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export type CardKeyType = 'RSA-2048' | 'P-256';

/**
 * A software model of a citizen card for tests: two key pairs generated "on
 * the card" (signature and encryption), their PKCS#10 requests, and
 * signatures with the card's signature key.
 */
export class TestCard {
  private constructor(
    readonly cardNumber: string,
    readonly signatureKeys: CryptoKeyPair,
    readonly encryptionKeys: CryptoKeyPair,
    readonly keyType: CardKeyType,
  ) {}

  static async create(cardNumber: string, keyType: CardKeyType = 'P-256'): Promise<TestCard> {
    const algorithm =
      keyType === 'P-256'
        ? { name: 'ECDSA', namedCurve: 'P-256' }
        : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
    const generate = () => webcrypto.subtle.generateKey(algorithm, true, usages) as Promise<CryptoKeyPair>;
    return new TestCard(cardNumber, await generate(), await generate(), keyType);
  }

  async csr(which: 'signature' | 'encryption'): Promise<string> {
    const keys = which === 'signature' ? this.signatureKeys : this.encryptionKeys;
    const request = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=card ${this.cardNumber} ${which}`,
      keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
      signingAlgorithm: this.keyType === 'P-256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    return request.toString('pem');
  }

  /** A CSR whose signature does not match its key (proof of possession fails). */
  async forgedCsr(): Promise<string> {
    const pem = await this.csr('signature');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0xff;
    return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  }

  async signWithSignatureKey(data: Uint8Array): Promise<Uint8Array> {
    const algorithm = this.keyType === 'P-256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
    return new Uint8Array(await webcrypto.subtle.sign(algorithm, this.signatureKeys.privateKey, data));
  }
}

/** A national ID number (male, letter A) with a correct check digit, distinct per n. */
export function validNationalId(n: number): string {
  const digits = `1${String(n).padStart(7, '0')}`.split('').map(Number);
  const letter = [1, 0]; // A = 10
  const weights = [8, 7, 6, 5, 4, 3, 2, 1];
  let sum = letter[0] + 9 * letter[1];
  digits.forEach((d, i) => (sum += d * weights[i]));
  const check = (10 - (sum % 10)) % 10;
  return `A${digits.join('')}${check}`;
}
