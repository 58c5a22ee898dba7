/**
 * The one abstraction through which every CA key signs: certificates, CRLs
 * and OCSP responses (STYLE.md rule 3). Implementations: software keys
 * (development) and PKCS#11 (HSMs). Callers never see key material.
 */

/** The key behind a signer. RSA keys sign with PKCS#1 v1.5 and SHA-256. */
export type KeyAlgorithm =
  | { kind: 'RSA'; modulusBits: 2048 | 3072 | 4096 }
  | { kind: 'EC'; curve: 'P-256' | 'P-384' };

/** X.509 signature algorithms this CA produces (RFC 4055 §5, RFC 5758 §3.2). */
export type SignatureAlgorithm = 'sha256WithRSAEncryption' | 'ecdsaWithSHA256' | 'ecdsaWithSHA384';

export interface Signer {
  /** A stable label for logs and errors, e.g. "software:issuing-ca" or "pkcs11:slot0/issuing-ca". Never secret. */
  readonly keyLabel: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** DER SubjectPublicKeyInfo of the key (RFC 5280 §4.1.2.7). */
  readonly publicKeySpki: Uint8Array;
  /**
   * Signs `data` (the DER of a TBSCertificate, TBSCertList or ResponseData)
   * and returns the signature exactly as it goes into the signature BIT
   * STRING: the PKCS#1 v1.5 block for RSA, the DER Ecdsa-Sig-Value for ECDSA
   * (RFC 5480 §2.2 / RFC 3279 §2.2.3). Throws SigningError on failure.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * True when no signature leaves {@link sign} unchecked against this key,
   * so a caller need not verify it again before release: the PKCS#11 signer
   * verifies each one with the public key (unless configured not to), and
   * OpenSSL's RSA private-key operation raises its CRT result to the public
   * exponent and recomputes without CRT when that does not give back its
   * input, so a miscalculated RSA-CRT signature, which would reveal a factor
   * of the modulus, never leaves it. ECDSA signing has no such check.
   */
  readonly checksItsSignatures: boolean;
  /** Releases sessions or handles. */
  close(): Promise<void>;
}

/** A signature that could not be made. The caller must record nothing as signed. */
export class SigningError extends Error {
  constructor(
    readonly keyLabel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`signing with ${keyLabel}: ${message}`, options);
    this.name = 'SigningError';
  }
}

/** The signature algorithm a key of this type uses. */
export function signatureAlgorithmFor(key: KeyAlgorithm): SignatureAlgorithm {
  if (key.kind === 'RSA') return 'sha256WithRSAEncryption';
  return key.curve === 'P-256' ? 'ecdsaWithSHA256' : 'ecdsaWithSHA384';
}
