import { DataSource } from 'typeorm';
import { CertificationRequest, checkKeyQuality } from '@moica/pki';
import { pkiProblem } from '../common/refusals';
import { CertificateOrder } from './certificate-issuance.service';
import { parseCardRequest } from './card-request';
import { SharedPrimeRepository } from './shared-prime.repository';

/** The two PKCS#10 requests of a new card (DOMAIN.md: one signature and one encryption key pair), proof of possession checked. */
export interface NewCardRequests {
  signature: CertificationRequest;
  encryption: CertificationRequest;
}

/** Parses both requests of a new card; a card has two distinct key pairs. */
export function parseNewCardRequests(csrs: { signature: string; encryption: string }): NewCardRequests {
  const signature = parseCardRequest(csrs.signature, 'signature');
  const encryption = parseCardRequest(csrs.encryption, 'encryption');
  if (Buffer.from(signature.publicKey.spki).equals(Buffer.from(encryption.publicKey.spki))) {
    throw pkiProblem('csr-keys-identical', 'the signature and encryption requests carry the same key; a card has two key pairs');
  }
  return { signature, encryption };
}

/**
 * The certificate orders of a new card (a counter application, a card
 * re-issued by mail): each key passes the key-quality checks (a key never
 * seen before, no prime shared with another RSA modulus), then one order per
 * kind with the holder's subject, the validity and the card's CRL partition.
 */
export async function newCardOrders(
  requests: NewCardRequests,
  subject: { holderName: string; holderNumber: string; nationalIdLast4: string; notBefore: Date; notAfter: Date; crlPartition: number },
  deps: { dataSource: DataSource; sharedPrimes: SharedPrimeRepository },
): Promise<CertificateOrder[]> {
  const orders: CertificateOrder[] = [];
  for (const kind of ['signature', 'encryption'] as const) {
    const quality = await checkKeyQuality(requests[kind].publicKey, {
      isKnownPublicKey: async (spkiSha256) => {
        const rows: unknown[] = await deps.dataSource.query(
          `SELECT 1 FROM certificate WHERE spki_sha256 = $1 AND status NOT IN ('pending', 'abandoned') LIMIT 1`,
          [Buffer.from(spkiSha256)],
        );
        return rows.length > 0;
      },
      sharedPrimeIndex: deps.sharedPrimes,
    });
    if (!quality.ok) throw pkiProblem(quality.code, `${kind} key: ${quality.detail}`);
    orders.push({ request: { kind, publicKey: quality.checked, ...subject }, firstCertification: true });
  }
  return orders;
}
