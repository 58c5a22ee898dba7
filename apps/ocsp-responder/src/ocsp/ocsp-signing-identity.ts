import { OcspResponseBuilder, revocationIssuerFromCertificate, type RevocationIssuer, type Signer } from '@moica/pki';

/**
 * One CA the OCSP service answers for, with its delegated responder
 * (RFC 6960 §4.2.2.2: a certificate issued by the CA with id-kp-OCSPSigning
 * and id-pkix-ocsp-nocheck). The key may be a software key or sit in the HSM:
 * it is opened by its recorded key location like any CA key.
 */
export interface OcspSigningIdentity {
  caId: string;
  caName: string;
  /** The CA as CertIDs name it (issuerNameHash / issuerKeyHash). */
  issuer: RevocationIssuer;
  /** Signs with the delegated responder key; responder ID byKey, certificate included (RFC 5019 §2.2.3). */
  builder: OcspResponseBuilder;
  signer: Signer;
}

/** The rows that name the active delegated responders and their CAs. */
export const ACTIVE_OCSP_SIGNERS_SQL = `
  SELECT s.id AS signer_id, c.id AS ca_id, c.name AS ca_name, c.certificate_der AS ca_der,
         s.certificate_der AS signer_der, s.key_location
    FROM ocsp_signer s JOIN certificate_authority c ON c.id = s.ca_id
   WHERE s.active AND c.active AND c.role = 'issuing'
   ORDER BY c.name`;

export interface ActiveOcspSignerRow {
  signer_id: string;
  ca_id: string;
  ca_name: string;
  ca_der: Buffer;
  signer_der: Buffer;
  key_location: string;
}

/** Builds an identity from its rows and an opened signer. Throws when the certificate is not the key's. */
export function ocspSigningIdentity(row: ActiveOcspSignerRow, signer: Signer): OcspSigningIdentity {
  return {
    caId: row.ca_id,
    caName: row.ca_name,
    issuer: revocationIssuerFromCertificate(new Uint8Array(row.ca_der)),
    builder: new OcspResponseBuilder({ signer, signerCertificateDer: new Uint8Array(row.signer_der) }),
    signer,
  };
}

/** Opens every active delegated responder (the worker's way; the responder uses its CaKeyRing). */
export async function loadOcspSigningIdentities(
  db: { query(sql: string): Promise<{ rows: ActiveOcspSignerRow[] }> },
  openKey: (keyLocation: string, label: string) => Promise<Signer>,
): Promise<OcspSigningIdentity[]> {
  const { rows } = await db.query(ACTIVE_OCSP_SIGNERS_SQL);
  const identities: OcspSigningIdentity[] = [];
  for (const row of rows) {
    const signer = await openKey(row.key_location, `ocsp-signer:${row.ca_name}`);
    try {
      identities.push(ocspSigningIdentity(row, signer));
    } catch (cause) {
      await signer.close();
      throw new Error(`OCSP signer of ${row.ca_name}`, { cause });
    }
  }
  return identities;
}
