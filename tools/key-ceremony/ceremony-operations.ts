/**
 * What the approved key operations do (docs/key-ceremony.md, "CLI"):
 *
 * - create-root: a root key and its self-signed certificate (RFC 5280 §3.2).
 * - create-issuing: an issuing CA key; with `local:<root>` the local root
 *   signs its certificate, with `external` a PKCS#10 request (RFC 2986) is
 *   written for an external parent (MOICA's parent is the government root)
 *   and the CA waits in ca_certificate_request.
 * - import-parent-certificate: the parent's answer, checked by
 *   acceptParentIssuedCertificate, becomes an active issuing CA.
 * - rotate-ocsp-signer: a new delegated OCSP signer key and certificate
 *   (RFC 6960 §4.2.2.2: id-kp-OCSPSigning, id-pkix-ocsp-nocheck, short
 *   lifetime); the old signer is deactivated in the same transaction.
 *
 * Each runs inside the executing transaction of approvals.ts; files it writes
 * (software keys, certificates, CSRs) are removed again if that transaction
 * does not commit. The CA rows carry the OCSP CertID hashes of the CA
 * (issuerNameHash / issuerKeyHash, RFC 6960 §4.1.1) like tools/dev-ca.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, PoolClient } from 'pg';
import {
  acceptParentIssuedCertificate,
  buildCaCertificateRequest,
  buildIssuingCaCertificate,
  buildOcspSignerCertificate,
  buildRootCaCertificate,
  CertificateRejected,
  derToPem,
  formatKeyLocation,
  keyLocationLabel,
  parseCertificate,
  parseKeyLocation,
  Pkcs11KeyInfo,
  Pkcs11KeyLocation,
  randomSerialNumber,
  revocationIssuerFromCertificate,
} from '@moica/pki';
import { appendAudit, Queryable, queryRows } from '../../db/audit-chain';
import { inTransaction } from '../../db/transaction';
import { ExecutionOutcome, OperationRunner, RequestPrecheck, UndoLog } from './approvals';
import { createCardUnlockMasterKey, CreateCardUnlockMasterKeyParameters, precheckCardUnlockMasterKey } from './card-unlock-master-key';
import { CeremonyRefused } from './ceremony-errors';
import { CeremonySecrets, createKey, listTokenKeys, openCaKey, OpenedKey, TokenInventory } from './ceremony-keys';
import {
  CeremonyOperation,
  CreateIssuingParameters,
  CreateRootParameters,
  formatDistinguishedName,
  ImportParentCertificateParameters,
  keyAlgorithmFromName,
  RotateOcspSignerParameters,
} from './ceremony-parameters';
import { Operator } from './operators';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

export interface CeremonyOperationsOptions {
  secrets: CeremonySecrets;
  /** Where certificates and CSRs are written (files are never overwritten). */
  outDir: string;
}

/** Checks a request's parameters against the database before it is recorded, so operators approve something executable. */
export const precheckRequest: RequestPrecheck = async (db, operation, parameters) => {
  switch (operation) {
    case 'create-root':
    case 'create-issuing': {
      const p = parameters as CreateRootParameters | CreateIssuingParameters;
      await refuseUsedName(db, p.name);
      await refuseUsedKeyLocation(db, p.keyLocation);
      if ('parent' in p && p.parent.startsWith('local:')) await activeCa(db, p.parent.slice('local:'.length));
      return;
    }
    case 'import-parent-certificate': {
      const p = parameters as ImportParentCertificateParameters;
      const pending = await pendingRequest(db, p.name, false);
      const certificate = parseOrRefuse(Buffer.from(p.certificate, 'base64'), 'certificate');
      parseOrRefuse(Buffer.from(p.parentCertificate, 'base64'), 'parentCertificate');
      if (!sha256(certificate.subjectPublicKeyInfoDer).equals(pending.spki_sha256)) {
        throw new CeremonyRefused('invalid-parameters', `the certificate does not certify the key of pending CA ${p.name}`);
      }
      return;
    }
    case 'rotate-ocsp-signer': {
      const p = parameters as RotateOcspSignerParameters;
      await activeCa(db, p.ca);
      await refuseUsedKeyLocation(db, p.keyLocation);
      return;
    }
    case 'create-card-unlock-master-key': {
      const p = parameters as CreateCardUnlockMasterKeyParameters;
      await precheckCardUnlockMasterKey(db, p);
      await refuseUsedKeyLocation(db, p.keyLocation);
      return;
    }
  }
};

/** The runner for executeOperation: dispatches to the operation. */
export function ceremonyRunner(options: CeremonyOperationsOptions): OperationRunner {
  return async (tx, request, undo) => {
    await precheckRequest(tx, request.operation, request.parameters);
    const context: RunContext = { tx, requestId: request.id, now: request.now, undo, options };
    switch (request.operation as CeremonyOperation) {
      case 'create-root':
        return createRoot(context, request.parameters as CreateRootParameters);
      case 'create-issuing':
        return createIssuing(context, request.parameters as CreateIssuingParameters);
      case 'import-parent-certificate':
        return importParentCertificate(context, request.parameters as ImportParentCertificateParameters);
      case 'rotate-ocsp-signer':
        return rotateOcspSigner(context, request.parameters as RotateOcspSignerParameters);
      case 'create-card-unlock-master-key':
        return createCardUnlockMasterKey({ ...context, secrets: options.secrets }, request.parameters as CreateCardUnlockMasterKeyParameters);
    }
  };
}

interface RunContext {
  tx: PoolClient;
  requestId: string;
  now: Date;
  undo: UndoLog;
  options: CeremonyOperationsOptions;
}

async function createRoot(ctx: RunContext, p: CreateRootParameters): Promise<ExecutionOutcome> {
  const notBefore = wholeSecond(ctx.now);
  const key = await createKey(p.keyLocation, keyAlgorithmFromName(p.keyAlgorithm), ctx.requestId, ctx.options.secrets, ctx.undo);
  try {
    const certificate = await buildRootCaCertificate({
      signer: key.signer,
      subject: p.subject,
      notBefore,
      notAfter: addYears(notBefore, p.validityYears),
      serialNumber: randomSerialNumber(),
    });
    const caId = await insertCa(ctx.tx, {
      name: p.name,
      role: 'root',
      parentId: null,
      der: certificate.der,
      keyLocation: p.keyLocation,
      keyAlgorithm: p.keyAlgorithm,
    });
    const file = writeOutput(ctx, `${p.name}.crt.pem`, certificate.pem);
    return {
      subjectKind: 'certificate-authority',
      subjectId: caId,
      result: { caId, name: p.name, role: 'root', ...keyFacts(key), ...certificateFacts(certificate.der), files: [file] },
    };
  } finally {
    await key.close();
  }
}

async function createIssuing(ctx: RunContext, p: CreateIssuingParameters): Promise<ExecutionOutcome> {
  const notBefore = wholeSecond(ctx.now);
  if (p.parent === 'external') {
    const key = await createKey(p.keyLocation, keyAlgorithmFromName(p.keyAlgorithm), ctx.requestId, ctx.options.secrets, ctx.undo);
    try {
      const csr = await buildCaCertificateRequest({ signer: key.signer, subject: p.subject });
      const rows = await queryRows<{ id: string }>(
        ctx.tx,
        `INSERT INTO ca_certificate_request (name, subject_dn, key_location, key_algorithm, csr_der, spki_sha256, approval_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [p.name, formatDistinguishedName(p.subject), p.keyLocation, p.keyAlgorithm, Buffer.from(csr.der), sha256(key.signer.publicKeySpki), ctx.requestId, ctx.now],
      );
      const file = writeOutput(ctx, `${p.name}.csr.pem`, csr.pem);
      return {
        subjectKind: 'ca-certificate-request',
        subjectId: rows[0].id,
        result: {
          certificateRequestId: rows[0].id,
          name: p.name,
          state: 'pending-parent-certificate',
          ...keyFacts(key),
          csrSha256: sha256(csr.der).toString('hex'),
          files: [file],
        },
      };
    } finally {
      await key.close();
    }
  }

  const parentRow = await activeCa(ctx.tx, p.parent.slice('local:'.length));
  refuseOutliving(addYears(notBefore, p.validityYears), parentRow, `the issuing CA (${p.validityYears} years)`);
  const parentSigner = await openCaKey(parentRow.key_location, ctx.options.secrets);
  try {
    const key = await createKey(p.keyLocation, keyAlgorithmFromName(p.keyAlgorithm), ctx.requestId, ctx.options.secrets, ctx.undo);
    try {
      const certificate = await buildIssuingCaCertificate({
        issuer: { signer: parentSigner, certificateDer: parentRow.certificate_der },
        subject: p.subject,
        subjectPublicKeyInfoDer: key.signer.publicKeySpki,
        notBefore,
        notAfter: addYears(notBefore, p.validityYears),
        serialNumber: randomSerialNumber(),
        crlDistributionPointUrls: p.crlUrls,
        authorityInfoAccess:
          p.ocspUrls.length || p.caIssuersUrls.length ? { ocspUrls: p.ocspUrls, caIssuersUrls: p.caIssuersUrls } : undefined,
        certificatePolicyOids: p.policyOids,
      }).catch(rethrowRejected);
      const caId = await insertCa(ctx.tx, {
        name: p.name,
        role: 'issuing',
        parentId: parentRow.id,
        der: certificate.der,
        keyLocation: p.keyLocation,
        keyAlgorithm: p.keyAlgorithm,
      });
      const file = writeOutput(ctx, `${p.name}.crt.pem`, certificate.pem);
      return {
        subjectKind: 'certificate-authority',
        subjectId: caId,
        result: {
          caId,
          name: p.name,
          role: 'issuing',
          parent: parentRow.name,
          parentKeyLabel: parentSigner.keyLabel,
          ...keyFacts(key),
          ...certificateFacts(certificate.der),
          files: [file],
        },
      };
    } finally {
      await key.close();
    }
  } finally {
    await parentSigner.close();
  }
}

async function importParentCertificate(ctx: RunContext, p: ImportParentCertificateParameters): Promise<ExecutionOutcome> {
  const pending = await pendingRequest(ctx.tx, p.name, true);
  const certificateDer = new Uint8Array(Buffer.from(p.certificate, 'base64'));
  const parentDer = new Uint8Array(Buffer.from(p.parentCertificate, 'base64'));
  // Opening the key proves it is still there (and, in an HSM, still non-extractable).
  const signer = await openCaKey(pending.key_location, ctx.options.secrets);
  try {
    const accepted = (() => {
      try {
        return acceptParentIssuedCertificate({ certificateDer, signer, parentCertificateDer: parentDer, now: ctx.now });
      } catch (error) {
        return rethrowRejected(error);
      }
    })();
    const caId = await insertCa(ctx.tx, {
      name: p.name,
      role: 'issuing',
      parentId: null,
      der: certificateDer,
      keyLocation: pending.key_location,
      keyAlgorithm: pending.key_algorithm,
    });
    await ctx.tx.query(
      `UPDATE ca_certificate_request SET state = 'imported', ca_id = $2, parent_certificate_der = $3, imported_at = $4 WHERE id = $1`,
      [pending.id, caId, Buffer.from(parentDer), ctx.now],
    );
    const file = writeOutput(ctx, `${p.name}.crt.pem`, derToPem(certificateDer, 'CERTIFICATE'));
    return {
      subjectKind: 'certificate-authority',
      subjectId: caId,
      result: {
        caId,
        name: p.name,
        role: 'issuing',
        certificateRequestId: pending.id,
        parentSubject: parseCertificate(parentDer).subjectText,
        keyLocation: pending.key_location,
        keyLabel: signer.keyLabel,
        keyAlgorithm: pending.key_algorithm,
        ...certificateFacts(accepted.der),
        files: [file],
      },
    };
  } finally {
    await signer.close();
  }
}

async function rotateOcspSigner(ctx: RunContext, p: RotateOcspSignerParameters): Promise<ExecutionOutcome> {
  const ca = await activeCa(ctx.tx, p.ca);
  const caCertificate = parseCertificate(ca.certificate_der);
  // An hour of slack for relying parties' clocks, but never before the CA itself.
  const notBefore = new Date(Math.max(wholeSecond(ctx.now).getTime() - HOUR_MS, caCertificate.notBefore.getTime()));
  const notAfter = new Date(notBefore.getTime() + p.validityDays * DAY_MS);
  refuseOutliving(notAfter, ca, `the OCSP signer (${p.validityDays} days)`);
  const caSigner = await openCaKey(ca.key_location, ctx.options.secrets);
  try {
    const key = await createKey(p.keyLocation, keyAlgorithmFromName(p.keyAlgorithm), ctx.requestId, ctx.options.secrets, ctx.undo);
    try {
      const certificate = await buildOcspSignerCertificate({
        issuer: { signer: caSigner, certificateDer: ca.certificate_der },
        subject: p.subject,
        subjectPublicKeyInfoDer: key.signer.publicKeySpki,
        notBefore,
        notAfter,
        serialNumber: randomSerialNumber(),
      }).catch(rethrowRejected);
      const previous = await queryRows<{ id: string; certificate_der: Buffer }>(
        ctx.tx,
        `UPDATE ocsp_signer SET active = false WHERE ca_id = $1 AND active RETURNING id, certificate_der`,
        [ca.id],
      );
      const rows = await queryRows<{ id: string }>(
        ctx.tx,
        `INSERT INTO ocsp_signer (ca_id, certificate_der, key_location, key_algorithm, not_before, not_after, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, true, $7) RETURNING id`,
        [ca.id, Buffer.from(certificate.der), p.keyLocation, p.keyAlgorithm, notBefore, notAfter, ctx.now],
      );
      const file = writeOutput(ctx, `${p.ca}-ocsp-signer-${certificate.serialNumberHex.slice(0, 12)}.crt.pem`, certificate.pem);
      return {
        subjectKind: 'ocsp-signer',
        subjectId: rows[0].id,
        result: {
          ocspSignerId: rows[0].id,
          ca: p.ca,
          caKeyLabel: caSigner.keyLabel,
          ...keyFacts(key),
          ...certificateFacts(certificate.der),
          deactivated: previous.map((row) => ({ ocspSignerId: row.id, serial: parseCertificate(row.certificate_der).serialNumberHex })),
          files: [file],
        },
      };
    } finally {
      await key.close();
    }
  } finally {
    await caSigner.close();
  }
}

// ---------------------------------------------------------------------------
// list-keys

export interface KeyInventory {
  certificateAuthorities: Array<{
    name: string;
    role: string;
    active: boolean;
    development: boolean;
    subject: string;
    serial: string;
    notAfter: string;
    keyLocation: string;
    keyAlgorithm: string;
  }>;
  pendingParentCertificates: Array<{ name: string; subject: string; keyLocation: string; keyAlgorithm: string; createdAt: string }>;
  ocspSigners: Array<{ ca: string; active: boolean; serial: string; notAfter: string; keyLocation: string; keyAlgorithm: string }>;
  /** Card unlock master keys (AES-256 secret keys; the token listing below shows private keys only). */
  cardUnlockMasterKeys: Array<{ version: number; active: boolean; development: boolean; keyLocation: string; createdAt: string }>;
  tokens: Array<Omit<TokenInventory, 'keys'> & { keys?: Array<Pkcs11KeyInfo & { usedBy: string[] }> }>;
}

/**
 * The ceremony's inventory: CA rows, CAs waiting for their parent's
 * certificate, OCSP signers, and the private keys of every PKCS#11 token they
 * (or `extraLocations`) name, each key with the rows that use it. Read-only;
 * the caller audits that it was looked at (the tokens were logged in to).
 */
export async function listKeys(db: Queryable, secrets: CeremonySecrets, extraLocations: string[] = []): Promise<KeyInventory> {
  const cas = await queryRows<{
    name: string;
    role: string;
    active: boolean;
    development: boolean;
    subject_dn: string;
    certificate_der: Buffer;
    not_after: Date;
    key_location: string;
    key_algorithm: string;
  }>(db, `SELECT name, role, active, development, subject_dn, certificate_der, not_after, key_location, key_algorithm FROM certificate_authority ORDER BY created_at, name`);
  const pending = await queryRows<{ name: string; subject_dn: string; key_location: string; key_algorithm: string; created_at: Date }>(
    db,
    `SELECT name, subject_dn, key_location, key_algorithm, created_at FROM ca_certificate_request WHERE state = 'pending-parent-certificate' ORDER BY created_at`,
  );
  const signers = await queryRows<{ ca: string; active: boolean; certificate_der: Buffer; not_after: Date; key_location: string; key_algorithm: string }>(
    db,
    `SELECT c.name AS ca, s.active, s.certificate_der, s.not_after, s.key_location, s.key_algorithm
       FROM ocsp_signer s JOIN certificate_authority c ON c.id = s.ca_id ORDER BY c.name, s.created_at`,
  );
  const masterKeys = await queryRows<{ version: number; active: boolean; development: boolean; key_location: string; created_at: Date }>(
    db,
    `SELECT version, active, development, key_location, created_at FROM card_unlock_master_key ORDER BY version`,
  );
  const users = new Map<string, string[]>();
  const tokens = new Map<string, Pkcs11KeyLocation>();
  const note = (locationText: string, user: string | null) => {
    let location;
    try {
      location = parseKeyLocation(locationText);
    } catch {
      return;
    }
    if (location.kind !== 'pkcs11') return;
    const tokenKey = `${location.modulePath}\n${location.tokenLabel}`;
    if (!tokens.has(tokenKey)) tokens.set(tokenKey, location);
    if (user) users.set(`${tokenKey}\n${location.objectLabel}`, [...(users.get(`${tokenKey}\n${location.objectLabel}`) ?? []), user]);
  };
  cas.forEach((row) => note(row.key_location, `${row.role} CA ${row.name}${row.active ? '' : ' (inactive)'}`));
  pending.forEach((row) => note(row.key_location, `issuing CA ${row.name} (pending parent certificate)`));
  signers.forEach((row) => note(row.key_location, `OCSP signer of ${row.ca}${row.active ? '' : ' (inactive)'}`));
  extraLocations.forEach((location) => note(location, null));

  const inventories: KeyInventory['tokens'] = [];
  for (const [tokenKey, location] of tokens) {
    const inventory = await listTokenKeys(location, secrets);
    inventories.push({
      ...inventory,
      keys: inventory.keys?.map((key) => ({ ...key, usedBy: users.get(`${tokenKey}\n${key.label}`) ?? [] })),
    });
  }
  return {
    certificateAuthorities: cas.map((row) => ({
      name: row.name,
      role: row.role,
      active: row.active,
      development: row.development,
      subject: row.subject_dn,
      serial: parseCertificate(row.certificate_der).serialNumberHex,
      notAfter: row.not_after.toISOString(),
      keyLocation: row.key_location,
      keyAlgorithm: row.key_algorithm,
    })),
    pendingParentCertificates: pending.map((row) => ({
      name: row.name,
      subject: row.subject_dn,
      keyLocation: row.key_location,
      keyAlgorithm: row.key_algorithm,
      createdAt: row.created_at.toISOString(),
    })),
    ocspSigners: signers.map((row) => ({
      ca: row.ca,
      active: row.active,
      serial: parseCertificate(row.certificate_der).serialNumberHex,
      notAfter: row.not_after.toISOString(),
      keyLocation: row.key_location,
      keyAlgorithm: row.key_algorithm,
    })),
    cardUnlockMasterKeys: masterKeys.map((row) => ({
      version: row.version,
      active: row.active,
      development: row.development,
      keyLocation: row.key_location,
      createdAt: row.created_at.toISOString(),
    })),
    tokens: inventories,
  };
}

/**
 * list-keys needs no approval (it creates and uses no key, and shows no
 * secret), but it logs in to the tokens, so it is audited like every step.
 */
export async function auditKeyListing(pool: Pool, operator: Operator, now: Date, inventory: KeyInventory): Promise<void> {
  await inTransaction(pool, (tx) =>
    appendAudit(tx, {
      at: now,
      actorKind: 'operator',
      actorId: operator.key,
      operation: 'key-ceremony.keys-listed',
      detail: {
        certificateAuthorities: inventory.certificateAuthorities.length,
        pendingParentCertificates: inventory.pendingParentCertificates.length,
        ocspSigners: inventory.ocspSigners.length,
        cardUnlockMasterKeys: inventory.cardUnlockMasterKeys.length,
        tokens: inventory.tokens.map((token) => ({ token: token.tokenLabel, keys: token.keys?.length ?? null, problem: token.problem ?? null })),
      },
    }),
  );
}

// ---------------------------------------------------------------------------
// Rows

interface CaRow {
  id: string;
  name: string;
  role: string;
  key_location: string;
  certificate_der: Buffer;
}

async function activeCa(db: Queryable, name: string): Promise<CaRow> {
  const rows = await queryRows<CaRow & { active: boolean }>(
    db,
    `SELECT id, name, role, active, key_location, certificate_der FROM certificate_authority WHERE name = $1`,
    [name],
  );
  if (!rows[0]) throw new CeremonyRefused('not-found', `no CA named "${name}"`);
  if (!rows[0].active) throw new CeremonyRefused('conflict', `CA "${name}" is not active`);
  return rows[0];
}

interface PendingRow {
  id: string;
  key_location: string;
  key_algorithm: string;
  spki_sha256: Buffer;
}

async function pendingRequest(db: Queryable, name: string, lock: boolean): Promise<PendingRow> {
  const rows = await queryRows<PendingRow & { state: string }>(
    db,
    `SELECT id, state, key_location, key_algorithm, spki_sha256 FROM ca_certificate_request WHERE name = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [name],
  );
  if (!rows[0]) throw new CeremonyRefused('not-found', `no CA "${name}" is waiting for its parent's certificate (create-issuing --parent external)`);
  if (rows[0].state !== 'pending-parent-certificate') throw new CeremonyRefused('conflict', `the certificate of "${name}" was already imported`);
  return rows[0];
}

async function refuseUsedName(db: Queryable, name: string): Promise<void> {
  const rows = await queryRows<{ n: number }>(
    db,
    `SELECT (SELECT count(*) FROM certificate_authority WHERE name = $1) + (SELECT count(*) FROM ca_certificate_request WHERE name = $1) AS n`,
    [name],
  );
  if (Number(rows[0].n) > 0) throw new CeremonyRefused('conflict', `a CA named "${name}" already exists`);
}

async function refuseUsedKeyLocation(db: Queryable, location: string): Promise<void> {
  const label = keyLocationLabel(parseKeyLocation(location));
  const rows = await queryRows<{ key_location: string }>(
    db,
    `SELECT key_location FROM certificate_authority UNION ALL SELECT key_location FROM ocsp_signer
     UNION ALL SELECT key_location FROM ca_certificate_request UNION ALL SELECT key_location FROM card_unlock_master_key`,
  );
  const used = rows.some((row) => {
    try {
      return keyLocationLabel(parseKeyLocation(row.key_location)) === label;
    } catch {
      return false;
    }
  });
  if (used) throw new CeremonyRefused('conflict', `the key location ${label} is already in use: every key gets a new label`);
}

async function insertCa(
  tx: PoolClient,
  ca: { name: string; role: 'root' | 'issuing'; parentId: string | null; der: Uint8Array; keyLocation: string; keyAlgorithm: string },
): Promise<string> {
  const issuer = revocationIssuerFromCertificate(ca.der);
  const { notBefore, notAfter, subjectText } = parseCertificate(ca.der);
  const rows = await queryRows<{ id: string }>(
    tx,
    `INSERT INTO certificate_authority (name, role, parent_id, subject_dn, certificate_der, key_location, key_algorithm,
        spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, development)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
    [
      ca.name,
      ca.role,
      ca.parentId,
      subjectText,
      Buffer.from(ca.der),
      ca.keyLocation,
      ca.keyAlgorithm,
      Buffer.from(issuer.certIdHashes.sha1.keyHash),
      Buffer.from(issuer.certIdHashes.sha256.keyHash),
      Buffer.from(issuer.certIdHashes.sha1.nameHash),
      Buffer.from(issuer.certIdHashes.sha256.nameHash),
      notBefore,
      notAfter,
      // Software keys are development keys (docs/key-ceremony.md).
      parseKeyLocation(ca.keyLocation).kind === 'software',
    ],
  );
  return rows[0].id;
}


// ---------------------------------------------------------------------------
// Helpers

function keyFacts(key: OpenedKey): Record<string, unknown> {
  return {
    keyLocation: formatKeyLocation(key.location),
    keyLabel: key.signer.keyLabel,
    keyAlgorithm: key.signer.keyAlgorithm.kind === 'RSA' ? `RSA-${key.signer.keyAlgorithm.modulusBits}` : `EC-${key.signer.keyAlgorithm.curve}`,
    keyReused: key.reused,
    spkiSha256: sha256(key.signer.publicKeySpki).toString('hex'),
  };
}

function certificateFacts(der: Uint8Array): Record<string, unknown> {
  const parsed = parseCertificate(der);
  return {
    subject: parsed.subjectText,
    serial: parsed.serialNumberHex,
    certificateSha256: sha256(der).toString('hex'),
    spkiSha256: sha256(parsed.subjectPublicKeyInfoDer).toString('hex'),
    notBefore: parsed.notBefore.toISOString(),
    notAfter: parsed.notAfter.toISOString(),
  };
}

function writeOutput(ctx: RunContext, name: string, content: string): string {
  mkdirSync(ctx.options.outDir, { recursive: true });
  const path = join(ctx.options.outDir, name);
  try {
    writeFileSync(path, content, { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    throw new CeremonyRefused('conflict', `cannot write ${path}${(cause as NodeJS.ErrnoException).code === 'EEXIST' ? ': it already exists' : ''}`, { cause });
  }
  ctx.undo.push(() => unlinkSync(path));
  return path;
}

/** Checked before a key is generated: RFC 5280 §6.1.3 (a)(2), a certificate must not outlive its issuer. */
function refuseOutliving(notAfter: Date, issuer: CaRow, what: string): void {
  const issuerNotAfter = parseCertificate(issuer.certificate_der).notAfter;
  if (notAfter.getTime() > issuerNotAfter.getTime()) {
    throw new CeremonyRefused(
      'invalid-parameters',
      `${what} would be valid until ${notAfter.toISOString()}, after CA "${issuer.name}" expires (${issuerNotAfter.toISOString()})`,
    );
  }
}

function parseOrRefuse(der: Uint8Array, field: string) {
  try {
    return parseCertificate(der);
  } catch (cause) {
    throw new CeremonyRefused('invalid-parameters', `${field}: ${(cause as Error).message}`, { cause });
  }
}

/** A certificate the library refuses to sign or accept is the operator's problem to fix: a refusal, with the library's reason. */
function rethrowRejected(error: unknown): never {
  if (error instanceof CertificateRejected || error instanceof RangeError) {
    throw new CeremonyRefused('invalid-parameters', error.message, { cause: error });
  }
  throw error;
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function wholeSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Calendar years (UTC), as CA lifetimes are stated. */
function addYears(date: Date, years: number): Date {
  const result = new Date(date.getTime());
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

