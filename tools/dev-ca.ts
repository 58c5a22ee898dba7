/**
 * The DEVELOPMENT CA hierarchy of the quick start: a root CA, an issuing CA
 * and a delegated OCSP signer, with software keys (encrypted PKCS#8 under a
 * generated passphrase) in a local folder. Production hierarchies come from
 * the key ceremony with HSM keys and M-of-N approval; these rows are marked
 * `development = true` and their names say DEVELOPMENT.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import {
  buildIssuingCaCertificate,
  buildOcspSignerCertificate,
  buildRootCaCertificate,
  KeyAlgorithm,
  OID,
  parseCertificate,
  randomSerialNumber,
  revocationIssuerFromCertificate,
  SoftwareSigner,
} from '@moica/pki';
import { appendAudit } from '../db/audit-chain';

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** The OCSP signer certificate lives 60 days and is replaced when fewer than 14 remain. */
const OCSP_SIGNER_DAYS = 60;
const OCSP_SIGNER_RENEW_DAYS = 14;

export interface DevelopmentHierarchyOptions {
  databaseUrl: string;
  keysDir: string;
  passphrase: string;
  publicBaseUrl: string;
  now: Date;
  /** Key types; defaults follow MOICA's newest generation (RSA-4096 CAs) and a P-256 responder key. */
  rootKey?: KeyAlgorithm;
  issuingKey?: KeyAlgorithm;
  ocspKey?: KeyAlgorithm;
  /** Validity of the issuing CA in years (12 by default); tests of re-issued cards, issued near a card's 8-year cap, need more. */
  issuingCaYears?: number;
}

export interface DevelopmentHierarchy {
  created: boolean;
  issuingCaId: string;
  ocspSignerRotated: boolean;
}

export async function ensureDevelopmentHierarchy(options: DevelopmentHierarchyOptions): Promise<DevelopmentHierarchy> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    const existing = await client.query<{ id: string }>(
      `SELECT id FROM certificate_authority WHERE role = 'issuing' AND active ORDER BY created_at LIMIT 1`,
    );
    if (existing.rows[0]) {
      const rotated = await ensureOcspSigner(client, existing.rows[0].id, options);
      return { created: false, issuingCaId: existing.rows[0].id, ocspSignerRotated: rotated };
    }
    const issuingCaId = await createHierarchy(client, options);
    return { created: true, issuingCaId, ocspSignerRotated: false };
  } finally {
    await client.end();
  }
}

async function createHierarchy(client: Client, options: DevelopmentHierarchyOptions): Promise<string> {
  const { now, publicBaseUrl } = options;
  const keysDir = resolve(options.keysDir);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });

  const root = await SoftwareSigner.generate('software:dev-root-ca', options.rootKey ?? { kind: 'RSA', modulusBits: 4096 });
  const rootCert = await buildRootCaCertificate({
    signer: root,
    subject: [
      { type: 'C', value: 'TW' },
      { type: 'O', value: 'moica-ca DEVELOPMENT' },
      { type: 'CN', value: 'DEVELOPMENT Root CA (not for production)' },
    ],
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 25 * YEAR_MS),
    serialNumber: randomSerialNumber(),
  });

  const issuing = await SoftwareSigner.generate(
    'software:dev-issuing-ca',
    options.issuingKey ?? { kind: 'RSA', modulusBits: 4096 },
  );
  // 12 years: longer than a card's 8-year cap plus the time the CA keeps issuing.
  const issuingCert = await buildIssuingCaCertificate({
    issuer: { signer: root, certificateDer: rootCert.der },
    subject: [
      { type: 'C', value: 'TW' },
      { type: 'O', value: 'moica-ca DEVELOPMENT' },
      { type: 'CN', value: 'DEVELOPMENT Citizen Issuing CA (not for production)' },
    ],
    subjectPublicKeyInfoDer: issuing.publicKeySpki,
    notBefore: new Date(now.getTime() - DAY_MS / 2),
    notAfter: new Date(now.getTime() + (options.issuingCaYears ?? 12) * YEAR_MS),
    serialNumber: randomSerialNumber(),
    crlDistributionPointUrls: [`${publicBaseUrl}/crl/root.crl`],
    authorityInfoAccess: { caIssuersUrls: [`${publicBaseUrl}/ca/root.crt`] },
    certificatePolicyOids: [OID.gpkiClass3Assurance],
  });

  const rootKeyPath = writeKey(keysDir, 'dev-root-ca', root, options.passphrase);
  const issuingKeyPath = writeKey(keysDir, 'dev-issuing-ca', issuing, options.passphrase);
  writeFileSync(join(keysDir, 'dev-root-ca.crt.pem'), rootCert.pem);
  writeFileSync(join(keysDir, 'dev-issuing-ca.crt.pem'), issuingCert.pem);

  await client.query('BEGIN');
  try {
    const rootId = await insertCa(client, 'dev-root', 'root', null, rootCert.der, `software:${rootKeyPath}`, root.keyAlgorithm);
    const issuingId = await insertCa(
      client,
      'dev-issuing',
      'issuing',
      rootId,
      issuingCert.der,
      `software:${issuingKeyPath}`,
      issuing.keyAlgorithm,
    );
    await appendAudit(client, {
      at: now,
      actorKind: 'system',
      actorId: 'dev-stack',
      operation: 'key-ceremony.development-hierarchy',
      subjectKind: 'certificate-authority',
      subjectId: issuingId,
      after: { root: rootCert.serialNumberHex, issuing: issuingCert.serialNumberHex, development: true },
    });
    await client.query('COMMIT');
    await ensureOcspSigner(client, issuingId, options, { signer: issuing, certificateDer: issuingCert.der });
    await root.close();
    await issuing.close();
    return issuingId;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** Makes sure the issuing CA has an active OCSP signer valid for at least two more weeks; rotates it otherwise. */
async function ensureOcspSigner(
  client: Client,
  caId: string,
  options: DevelopmentHierarchyOptions,
  issuer?: { signer: SoftwareSigner; certificateDer: Uint8Array },
): Promise<boolean> {
  const { now } = options;
  const current = await client.query<{ id: string }>(
    `SELECT id FROM ocsp_signer WHERE ca_id = $1 AND active AND not_after > $2`,
    [caId, new Date(now.getTime() + OCSP_SIGNER_RENEW_DAYS * DAY_MS)],
  );
  if (current.rows[0]) return false;

  const ca = await client.query<{ name: string; key_location: string; certificate_der: Buffer }>(
    `SELECT name, key_location, certificate_der FROM certificate_authority WHERE id = $1`,
    [caId],
  );
  const caSigner =
    issuer?.signer ??
    SoftwareSigner.fromEncryptedPem(
      'software:dev-issuing-ca',
      await readFile(ca.rows[0].key_location.replace(/^software:/, ''), 'utf8'),
      options.passphrase,
    );
  const responder = await SoftwareSigner.generate('software:dev-ocsp-signer', options.ocspKey ?? { kind: 'EC', curve: 'P-256' });
  const certificate = await buildOcspSignerCertificate({
    issuer: { signer: caSigner, certificateDer: issuer?.certificateDer ?? ca.rows[0].certificate_der },
    subject: [
      { type: 'C', value: 'TW' },
      { type: 'O', value: 'moica-ca DEVELOPMENT' },
      { type: 'CN', value: 'DEVELOPMENT OCSP Responder' },
    ],
    subjectPublicKeyInfoDer: responder.publicKeySpki,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + OCSP_SIGNER_DAYS * DAY_MS),
    serialNumber: randomSerialNumber(),
  });
  const keysDir = resolve(options.keysDir);
  const stamp = now.toISOString().slice(0, 10);
  const keyPath = writeKey(keysDir, `dev-ocsp-signer-${stamp}-${certificate.serialNumberHex.slice(0, 8)}`, responder, options.passphrase);

  await client.query('BEGIN');
  try {
    await client.query(`UPDATE ocsp_signer SET active = false WHERE ca_id = $1 AND active`, [caId]);
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO ocsp_signer (ca_id, certificate_der, key_location, key_algorithm, not_before, not_after, active)
       VALUES ($1, $2, $3, $4, $5, $6, true) RETURNING id`,
      [
        caId,
        Buffer.from(certificate.der),
        `software:${keyPath}`,
        describeKey(responder.keyAlgorithm),
        new Date(now.getTime() - 3600_000),
        new Date(now.getTime() + OCSP_SIGNER_DAYS * DAY_MS),
      ],
    );
    await appendAudit(client, {
      at: now,
      actorKind: 'system',
      actorId: 'dev-stack',
      operation: 'key-ceremony.ocsp-signer-rotated',
      subjectKind: 'ocsp-signer',
      subjectId: inserted.rows[0].id,
      after: { caId, serial: certificate.serialNumberHex, development: true },
    });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    await responder.close();
    if (!issuer) await caSigner.close();
  }
  return true;
}

async function insertCa(
  client: Client,
  name: string,
  role: 'root' | 'issuing',
  parentId: string | null,
  der: Uint8Array,
  keyLocation: string,
  keyAlgorithm: KeyAlgorithm,
): Promise<string> {
  const issuer = revocationIssuerFromCertificate(der);
  const { notBefore, notAfter, subjectText } = parseCertificate(der);
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO certificate_authority (name, role, parent_id, subject_dn, certificate_der, key_location, key_algorithm,
        spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, development)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, true) RETURNING id`,
    [
      name,
      role,
      parentId,
      subjectText,
      Buffer.from(der),
      keyLocation,
      describeKey(keyAlgorithm),
      Buffer.from(issuer.certIdHashes.sha1.keyHash),
      Buffer.from(issuer.certIdHashes.sha256.keyHash),
      Buffer.from(issuer.certIdHashes.sha1.nameHash),
      Buffer.from(issuer.certIdHashes.sha256.nameHash),
      notBefore,
      notAfter,
    ],
  );
  return rows[0].id;
}

function writeKey(dir: string, name: string, signer: SoftwareSigner, passphrase: string): string {
  const path = join(dir, `${name}.DEVELOPMENT.key.pem`);
  writeFileSync(path, signer.exportEncryptedPem(passphrase), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

function describeKey(key: KeyAlgorithm): string {
  return key.kind === 'RSA' ? `RSA-${key.modulusBits}` : `EC-${key.curve}`;
}
