import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import {
  buildRootCaCertificate,
  parseCertificate,
  Pkcs11Token,
  randomSerialNumber,
  serialNumberHex,
  SoftwareSigner,
} from '@moica/pki';
import { verifyAuditChain } from '../../db/audit-chain';
import { createSoftHsmTestToken, SoftHsmTestToken } from '../../libs/pki/src/signing/testing/softhsm-test-token';
import { createTestDatabase } from '../../test/support/database';
import { describeWithTools } from '../../test/support/system-tool';
import {
  approveOperation,
  CeremonyContext,
  executeOperation,
  KeyOperationRequest,
  rejectOperation,
  requestOperation,
} from './approvals';
import { CeremonyRefused } from './ceremony-errors';
import { CeremonySecrets } from './ceremony-keys';
import { ceremonyRunner, listKeys, precheckRequest } from './ceremony-operations';
import { authenticateOperator } from './operators';
import { auditRecords, closePool, createStaffWithToken, TestOperator } from './testing/ceremony-fixtures';

const TOKEN = 'moica-ceremony';
const PIN = '135790';
const PASSPHRASE = 'ceremony-test-passphrase';

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout + result.stderr;
}

// The suites below run one after the other; each gets its own database and folder.
let db: { url: string; drop(): Promise<void> };
let pool: Pool;
let directory: string;
let ctx: CeremonyContext;
let alice: TestOperator;
let bob: TestOperator;
let carol: TestOperator;
let secrets: CeremonySecrets;

/** A fresh database with three operators, a temporary folder, and the ceremony context. */
function ceremonySetup(): void {
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 6 });
    directory = mkdtempSync(join(tmpdir(), 'moica-ceremony-'));
    secrets = { pkcs11Pin: PIN, softwareKeyPassphrase: PASSPHRASE };
    ctx = { pool, now: () => new Date(), quorum: 2 };
    alice = await createStaffWithToken(pool, 'Alice Operator');
    bob = await createStaffWithToken(pool, 'Bob Operator');
    carol = await createStaffWithToken(pool, 'Carol Operator');
  });
  afterAll(async () => {
    if (pool) await closePool(pool);
    await db?.drop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });
}

const softwareKey = (name: string) => `software:${join(directory, 'keys', `${name}.key.pem`)}`;
const outDir = () => join(directory, 'out');
const pem = (file: string) => join(outDir(), file);
const runner = () => ceremonyRunner({ secrets, outDir: outDir() });

/** The two-operator flow: alice requests, bob approves, alice executes. */
async function ceremony(operation: string, parameters: Record<string, unknown>): Promise<KeyOperationRequest> {
  const requested = await requestOperation(ctx, alice, operation, parameters, precheckRequest);
  expect(requested.state).toBe('pending');
  const approved = await approveOperation(ctx, bob, requested.id, requested.parametersDigest);
  expect(approved.state).toBe('approved');
  return executeOperation(ctx, alice, requested.id, runner());
}

describeWithTools(['softhsm2-util', 'openssl'], 'key ceremony on PostgreSQL with SoftHSM2 keys, checked by openssl', () => {
  let hsm: SoftHsmTestToken;
  ceremonySetup();
  beforeAll(async () => {
    hsm = await createSoftHsmTestToken(process.env, TOKEN, PIN);
  });
  afterAll(() => hsm?.remove());

  const hsmKey = (label: string) => `pkcs11:token=${TOKEN};object=${label}?module-path=${hsm.modulePath}`;
  it('authenticates operators by token and refuses other staff and bad tokens', async () => {
    const now = new Date();
    expect(await authenticateOperator(pool, alice.token, now)).toEqual({ staffId: alice.staffId, name: alice.name, key: alice.key });
    const clerkless = await createStaffWithToken(pool, 'Ann Auditor', 'auditor');
    await expect(authenticateOperator(pool, clerkless.token, now)).rejects.toThrow(/role auditor; key ceremonies need role operator/);
    await expect(authenticateOperator(pool, 'mca_' + 'A'.repeat(43), now)).rejects.toThrow(/unknown operator token/);
    await expect(authenticateOperator(pool, 'not-a-token', now)).rejects.toThrow(/malformed/);
  });

  it('runs root -> issuing CA (signed by the local root) -> OCSP signer with keys generated in the HSM; openssl verifies the chain', async () => {
    const auditBefore = (await auditRecords(pool)).length;
    const root = await ceremony('create-root', {
      name: 'moica-root-test',
      subject: 'C=TW, O=內政部, CN=MOICA Test Root CA',
      keyLocation: hsmKey('root-ca-2026'),
      keyAlgorithm: 'RSA-2048',
      validityYears: 20,
    });
    expect(root.state).toBe('executed');
    expect(root.result).toMatchObject({
      name: 'moica-root-test',
      role: 'root',
      keyLabel: `pkcs11:${TOKEN}/root-ca-2026`,
      keyAlgorithm: 'RSA-2048',
      keyReused: false,
      serial: expect.stringMatching(/^[0-9a-f]{32,34}$/),
      certificateSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const issuing = await ceremony('create-issuing', {
      name: 'moica-issuing-test',
      subject: 'C=TW, O=內政部, CN=內政部憑證管理中心 Test',
      keyLocation: hsmKey('issuing-ca-2026'),
      keyAlgorithm: 'EC-P-384',
      validityYears: 12,
      parent: 'local:moica-root-test',
      crlUrls: ['http://moica.test/crl/root.crl'],
      caIssuersUrls: ['http://moica.test/ca/root.crt'],
    });
    expect(issuing.result).toMatchObject({ role: 'issuing', parent: 'moica-root-test', parentKeyLabel: `pkcs11:${TOKEN}/root-ca-2026` });

    const ocsp1 = await ceremony('rotate-ocsp-signer', {
      ca: 'moica-issuing-test',
      subject: 'C=TW, CN=moica-issuing-test OCSP Responder',
      keyLocation: hsmKey('ocsp-signer-1'),
      keyAlgorithm: 'EC-P-256',
      validityDays: 30,
    });
    const ocsp2 = await ceremony('rotate-ocsp-signer', {
      ca: 'moica-issuing-test',
      subject: 'C=TW, CN=moica-issuing-test OCSP Responder',
      keyLocation: hsmKey('ocsp-signer-2'),
      keyAlgorithm: 'EC-P-256',
    });
    expect(ocsp2.result).toMatchObject({ deactivated: [{ ocspSignerId: ocsp1.result?.ocspSignerId, serial: ocsp1.result?.serial }] });

    // The database: the hierarchy, issuer hashes for OCSP, one active signer.
    const cas = await pool.query(`SELECT name, role, parent_id, key_location, development, active, spki_sha1 FROM certificate_authority ORDER BY created_at`);
    expect(cas.rows).toMatchObject([
      { name: 'moica-root-test', role: 'root', parent_id: null, key_location: hsmKey('root-ca-2026'), development: false, active: true },
      { name: 'moica-issuing-test', role: 'issuing', key_location: hsmKey('issuing-ca-2026'), development: false, active: true },
    ]);
    expect(cas.rows[0].spki_sha1).toHaveLength(20);
    const signers = await pool.query(`SELECT key_location, active FROM ocsp_signer ORDER BY created_at`);
    expect(signers.rows).toEqual([
      { key_location: hsmKey('ocsp-signer-1'), active: false },
      { key_location: hsmKey('ocsp-signer-2'), active: true },
    ]);

    // The keys were generated in the token and can never leave it.
    const token = await Pkcs11Token.open({ modulePath: hsm.modulePath, tokenLabel: TOKEN, pin: PIN });
    try {
      const keys = await token.listKeys();
      expect(keys.map((key) => key.label)).toEqual(['issuing-ca-2026', 'ocsp-signer-1', 'ocsp-signer-2', 'root-ca-2026']);
      for (const key of keys) expect(key).toMatchObject({ sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true });
    } finally {
      await token.close();
    }

    // openssl follows root -> issuing CA -> OCSP signer and shows the responder's extensions.
    const ocspFile = (ocsp2.result?.files as string[])[0];
    expect(
      run('openssl', ['verify', '-x509_strict', '-CAfile', pem('moica-root-test.crt.pem'), '-untrusted', pem('moica-issuing-test.crt.pem'), ocspFile]),
    ).toContain(': OK');
    const text = run('openssl', ['x509', '-in', ocspFile, '-noout', '-text']);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+OCSP Signing/);
    expect(text).toMatch(/OCSP No Check/);
    const ocspCert = parseCertificate(pemDer(readFileSync(ocspFile, 'utf8')));
    expect((ocspCert.notAfter.getTime() - ocspCert.notBefore.getTime()) / 86_400_000).toBe(30);

    // Every step left one audit record (request, approve, execute per operation) and the chain is intact.
    const records = (await auditRecords(pool)).slice(auditBefore);
    expect(records.map((record) => record.operation)).toEqual(
      Array.from({ length: 4 }, () => ['key-ceremony.requested', 'key-ceremony.approved', 'key-ceremony.executed']).flat(),
    );
    expect(records[2]).toMatchObject({
      actor_id: alice.key,
      subject_kind: 'certificate-authority',
      after: { keyLabel: `pkcs11:${TOKEN}/root-ca-2026`, serial: root.result?.serial, certificateSha256: root.result?.certificateSha256 },
      detail: { approvalId: root.id, approvedBy: [alice.key, bob.key] },
    });
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });

    // list-keys: every token key with the rows that use it.
    const inventory = await listKeys(pool, secrets);
    expect(inventory.certificateAuthorities.map((ca) => ca.name)).toEqual(['moica-root-test', 'moica-issuing-test']);
    expect(inventory.ocspSigners.map((signer) => signer.active)).toEqual([false, true]);
    expect(inventory.tokens).toHaveLength(1);
    expect(inventory.tokens[0].keys?.find((key) => key.label === 'root-ca-2026')?.usedBy).toEqual(['root CA moica-root-test']);
    expect(inventory.tokens[0].keys?.find((key) => key.label === 'ocsp-signer-1')?.usedBy).toEqual(['OCSP signer of moica-issuing-test (inactive)']);
  });

  it('exports a CSR for an external parent (openssl x509 -req as the government root) and imports its certificate', async () => {
    // The external parent: a root whose key openssl holds.
    const parentKey = await SoftwareSigner.generate('software:grca', { kind: 'EC', curve: 'P-384' });
    const now = new Date();
    const parent = await buildRootCaCertificate({
      signer: parentKey,
      subject: [{ type: 'C', value: 'TW' }, { type: 'O', value: '行政院' }, { type: 'CN', value: 'Test GRCA' }],
      notBefore: new Date(now.getTime() - 86_400_000),
      notAfter: new Date(now.getTime() + 30 * 365 * 86_400_000),
      serialNumber: randomSerialNumber(),
    });
    writeFileSync(join(directory, 'grca.pem'), parent.pem);
    writeFileSync(join(directory, 'grca.key'), parentKey.exportEncryptedPem('grca-passphrase'));

    const created = await ceremony('create-issuing', {
      name: 'moica-external-test',
      subject: 'C=TW, O=內政部, CN=內政部憑證管理中心 External',
      keyLocation: hsmKey('issuing-external'),
      keyAlgorithm: 'RSA-2048',
      validityYears: 10,
      parent: 'external',
    });
    expect(created.result).toMatchObject({ state: 'pending-parent-certificate', keyLabel: `pkcs11:${TOKEN}/issuing-external` });
    const csrFile = (created.result?.files as string[])[0];
    expect(csrFile).toBe(pem('moica-external-test.csr.pem'));
    expect(run('openssl', ['req', '-in', csrFile, '-verify', '-noout'])).toMatch(/verify OK/);
    // Not a CA yet: nothing for the apps' key rings to load.
    expect((await pool.query(`SELECT 1 FROM certificate_authority WHERE name = 'moica-external-test'`)).rowCount).toBe(0);
    expect((await pool.query(`SELECT state FROM ca_certificate_request WHERE name = 'moica-external-test'`)).rows).toEqual([
      { state: 'pending-parent-certificate' },
    ]);
    // The OCSP signer of a CA without a certificate cannot be requested.
    await expect(
      requestOperation(ctx, alice, 'rotate-ocsp-signer', { ca: 'moica-external-test', subject: 'C=TW, CN=x', keyLocation: hsmKey('x'), keyAlgorithm: 'EC-P-256' }, precheckRequest),
    ).rejects.toThrow(/no CA named "moica-external-test"/);

    writeFileSync(join(directory, 'ext.cnf'), '[ext]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    run('openssl', [
      'x509', '-req', '-in', csrFile, '-CA', join(directory, 'grca.pem'), '-CAkey', join(directory, 'grca.key'),
      '-passin', 'pass:grca-passphrase', '-set_serial', '0x' + serialNumberHex(randomSerialNumber()), '-days', '3650', '-sha384',
      '-extfile', join(directory, 'ext.cnf'), '-extensions', 'ext', '-outform', 'DER', '-out', join(directory, 'issued.der'),
    ]);
    const issuedDer = readFileSync(join(directory, 'issued.der'));

    // A certificate for another key is refused when requested.
    await expect(
      requestOperation(ctx, alice, 'import-parent-certificate', { name: 'moica-external-test', certificate: Buffer.from(parent.der).toString('base64'), parentCertificate: Buffer.from(parent.der).toString('base64') }, precheckRequest),
    ).rejects.toThrow(/does not certify the key of pending CA moica-external-test/);

    const imported = await ceremony('import-parent-certificate', {
      name: 'moica-external-test',
      certificate: issuedDer.toString('base64'),
      parentCertificate: Buffer.from(parent.der).toString('base64'),
    });
    expect(imported.result).toMatchObject({ role: 'issuing', parentSubject: 'C=TW, O=行政院, CN=Test GRCA', keyLabel: `pkcs11:${TOKEN}/issuing-external` });
    expect((await pool.query(`SELECT role, active, parent_id FROM certificate_authority WHERE name = 'moica-external-test'`)).rows).toEqual([
      { role: 'issuing', active: true, parent_id: null },
    ]);
    expect((await pool.query(`SELECT state FROM ca_certificate_request WHERE name = 'moica-external-test'`)).rows).toEqual([{ state: 'imported' }]);

    // This key's PIN comes from the location's pin-source file, not from PKCS11_PIN.
    writeFileSync(join(directory, 'hsm-pin'), `${PIN}\n`, { mode: 0o600 });
    const ocsp = await ceremony('rotate-ocsp-signer', {
      ca: 'moica-external-test',
      subject: 'C=TW, CN=moica-external-test OCSP Responder',
      keyLocation: `${hsmKey('ocsp-external-1')}&pin-source=file:${join(directory, 'hsm-pin')}`,
      keyAlgorithm: 'EC-P-256',
      validityDays: 7,
    });
    expect(
      run('openssl', ['verify', '-x509_strict', '-CAfile', join(directory, 'grca.pem'), '-untrusted', pem('moica-external-test.crt.pem'), (ocsp.result?.files as string[])[0]]),
    ).toContain(': OK');
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });

  it('takes the HSM key a failed execution of the same request generated, and audits a failure without the PIN', async () => {
    const parameters = { name: 'moica-retry-root', subject: 'C=TW, CN=Retry Root', keyLocation: hsmKey('retry-root'), keyAlgorithm: 'EC-P-256', validityYears: 3 };
    const request = await requestOperation(ctx, alice, 'create-root', parameters, precheckRequest);
    await approveOperation(ctx, bob, request.id);
    // The key is generated, then the certificate file is in the way: everything in the database rolls back.
    writeFileSync(pem('moica-retry-root.crt.pem'), 'in the way');
    await expect(executeOperation(ctx, alice, request.id, runner())).rejects.toMatchObject({ code: 'conflict' });
    rmSync(pem('moica-retry-root.crt.pem'));

    // A wrong PIN is an error (not a refusal): audited as a failed execution, PIN not in it.
    const wrongPin = ceremonyRunner({ secrets: { pkcs11Pin: 'wr0ng-PIN' }, outDir: outDir() });
    await expect(executeOperation(ctx, alice, request.id, wrongPin)).rejects.toThrow(/the PIN is wrong/);
    const failure = (await auditRecords(pool)).at(-1);
    expect(failure).toMatchObject({ operation: 'key-ceremony.execution-failed', actor_id: alice.key, subject_id: request.id });
    expect(JSON.stringify(failure)).not.toContain('wr0ng-PIN');

    const executed = await executeOperation(ctx, alice, request.id, runner());
    expect(executed.result).toMatchObject({ keyReused: true, keyLabel: `pkcs11:${TOKEN}/retry-root` });
    // No other request may use that key location.
    await expect(
      requestOperation(ctx, alice, 'create-root', { ...parameters, name: 'moica-retry-root-2' }, precheckRequest),
    ).rejects.toThrow(/key location pkcs11:moica-ceremony\/retry-root is already in use/);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });
});

describe('key ceremony approvals on PostgreSQL (software keys)', () => {
  ceremonySetup();
  
  let counter = 0;
  const rootParameters = () => {
    counter++;
    return {
      name: `refusal-root-${counter}`,
      subject: `C=TW, CN=Refusal Root ${counter}`,
      keyLocation: softwareKey(`refusal-root-${counter}`),
      keyAlgorithm: 'EC-P-256',
      validityYears: 5,
    };
  };
  const refusedWith = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CeremonyRefused);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  };
  const lastAudit = async () => (await auditRecords(pool)).at(-1);

  it('refuses the requester approving their own request, and the same operator approving twice', async () => {
    const ctx3 = { ...ctx, quorum: 3 };
    const request = await requestOperation(ctx3, alice, 'create-root', rootParameters(), precheckRequest);
    expect(request).toMatchObject({ required: 3, approvals: [{ operator: alice.key }] });
    await refusedWith(approveOperation(ctx3, alice, request.id), 'own-request', /Alice Operator requested .* cannot also approve it/);
    expect(await lastAudit()).toMatchObject({ operation: 'key-ceremony.refused', actor_id: alice.key, subject_id: request.id, detail: { code: 'own-request' } });
    expect((await approveOperation(ctx3, bob, request.id)).state).toBe('pending');
    await refusedWith(approveOperation(ctx3, bob, request.id), 'already-approved', /Bob Operator has already approved/);
    expect(await lastAudit()).toMatchObject({ operation: 'key-ceremony.refused', actor_id: bob.key, detail: { code: 'already-approved' } });
    await refusedWith(executeOperation(ctx3, bob, request.id, runner()), 'not-approved', /has 2 of 3 approvals/);
    const approved = await approveOperation(ctx3, carol, request.id);
    expect(approved).toMatchObject({ state: 'approved', approvals: [{ operator: alice.key }, { operator: bob.key }, { operator: carol.key }] });
    await refusedWith(approveOperation(ctx3, carol, request.id), 'not-pending', /already approved/);
  });

  it('refuses a quorum below 2 and one above the number of active operators', async () => {
    await refusedWith(requestOperation({ ...ctx, quorum: 1 }, alice, 'create-root', rootParameters(), precheckRequest), 'quorum-misconfigured', /at least 2 operators/);
    await refusedWith(
      requestOperation({ ...ctx, quorum: 4 }, alice, 'create-root', rootParameters(), precheckRequest),
      'quorum-misconfigured',
      /KEY_CEREMONY_QUORUM=4 cannot be reached: only 3 active operator\(s\)/,
    );
    expect(await lastAudit()).toMatchObject({ operation: 'key-ceremony.refused', detail: { attempted: 'request create-root', code: 'quorum-misconfigured' } });
  });

  it('refuses executing before approval, by a non-approver, twice, and after rejection', async () => {
    const parameters = rootParameters();
    const request = await requestOperation(ctx, alice, 'create-root', parameters, precheckRequest);
    await refusedWith(executeOperation(ctx, alice, request.id, runner()), 'not-approved', /1 of 2 approvals: it cannot be executed yet/);
    await approveOperation(ctx, bob, request.id);
    await refusedWith(executeOperation(ctx, carol, request.id, runner()), 'not-an-approver', /Carol Operator did not approve/);
    const executed = await executeOperation(ctx, bob, request.id, runner());
    expect(executed).toMatchObject({ state: 'executed', executedBy: bob.key });
    expect(existsSync(parameters.keyLocation.slice('software:'.length))).toBe(true);
    await refusedWith(executeOperation(ctx, alice, request.id, runner()), 'already-executed', /already executed/);
    await refusedWith(rejectOperation(ctx, alice, request.id, 'too late'), 'already-executed', /was executed/);

    const rejected = await requestOperation(ctx, alice, 'create-root', rootParameters(), precheckRequest);
    await approveOperation(ctx, bob, rejected.id);
    expect((await rejectOperation(ctx, carol, rejected.id, 'wrong validity')).state).toBe('rejected');
    await refusedWith(executeOperation(ctx, alice, rejected.id, runner()), 'rejected', /was rejected/);
    await refusedWith(approveOperation(ctx, carol, rejected.id), 'rejected', /was rejected/);
    await refusedWith(executeOperation(ctx, alice, '00000000-0000-0000-0000-000000000000', runner()), 'not-found', /no key operation request/);
  });

  it('runs an operation once when two executions race (row lock)', async () => {
    const request = await requestOperation(ctx, alice, 'create-root', rootParameters(), precheckRequest);
    await approveOperation(ctx, bob, request.id);
    const results = await Promise.allSettled([
      executeOperation(ctx, alice, request.id, runner()),
      executeOperation(ctx, bob, request.id, runner()),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const failure = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(failure.reason).toMatchObject({ code: 'already-executed' });
    expect((await pool.query(`SELECT count(*)::int AS n FROM certificate_authority WHERE name = $1`, [request.parameters.name])).rows[0].n).toBe(1);
    const executions = (await auditRecords(pool)).filter((r) => r.operation === 'key-ceremony.executed' && r.detail.approvalId === request.id);
    expect(executions).toHaveLength(1);
  });

  it('refuses parameters changed after approval, and the database refuses changing them at all', async () => {
    const request = await requestOperation(ctx, alice, 'create-root', rootParameters(), precheckRequest);
    await refusedWith(approveOperation(ctx, bob, request.id, '0'.repeat(64)), 'parameters-changed', /not 0{64} as reviewed/);
    await approveOperation(ctx, bob, request.id, request.parametersDigest);
    await expect(
      pool.query(`UPDATE key_operation_approval SET parameters = jsonb_set(parameters, '{validityYears}', '30') WHERE id = $1`, [request.id]),
    ).rejects.toThrow(/fixed parameters: they cannot change/);
    await expect(pool.query(`DELETE FROM key_operation_approval WHERE id = $1`, [request.id])).rejects.toThrow(/DELETE refused/);
    // Only a superuser who disables the trigger can; execute still notices.
    await pool.query(`ALTER TABLE key_operation_approval DISABLE TRIGGER key_operation_approval_guard`);
    await pool.query(`UPDATE key_operation_approval SET parameters = jsonb_set(parameters, '{validityYears}', '30') WHERE id = $1`, [request.id]);
    await pool.query(`ALTER TABLE key_operation_approval ENABLE TRIGGER key_operation_approval_guard`);
    await refusedWith(executeOperation(ctx, alice, request.id, runner()), 'parameters-changed', /not those approved by Alice Operator, Bob Operator/);
    expect((await pool.query(`SELECT state FROM key_operation_approval WHERE id = $1`, [request.id])).rows[0].state).toBe('approved');
  });

  it('refuses an approval of an operator who is no longer active at execution', async () => {
    const dave = await createStaffWithToken(pool, 'Dave Operator');
    const request = await requestOperation(ctx, alice, 'create-root', rootParameters(), precheckRequest);
    await approveOperation(ctx, dave, request.id);
    await pool.query(`UPDATE staff_member SET active = false WHERE id = $1`, [dave.staffId]);
    await refusedWith(executeOperation(ctx, alice, request.id, runner()), 'not-approved', /only 1 of its approvers are still active operators/);
  });

  it('rolls back a refused execution, removes the files it wrote, audits the refusal, and can run it later', async () => {
    const parameters = rootParameters();
    const request = await requestOperation(ctx, alice, 'create-root', parameters, precheckRequest);
    await approveOperation(ctx, bob, request.id);
    // The certificate file is in the way: the software key already written must be removed again.
    writeFileSync(pem(`${parameters.name}.crt.pem`), 'in the way');
    await refusedWith(executeOperation(ctx, alice, request.id, runner()), 'conflict', /already exists/);
    expect(existsSync(parameters.keyLocation.slice('software:'.length))).toBe(false);
    expect(await lastAudit()).toMatchObject({ operation: 'key-ceremony.refused', subject_id: request.id, detail: { attempted: 'execute', code: 'conflict' } });
    expect((await pool.query(`SELECT count(*)::int AS n FROM certificate_authority WHERE name = $1`, [parameters.name])).rows[0].n).toBe(0);
    rmSync(pem(`${parameters.name}.crt.pem`));
    const noPassphrase = ceremonyRunner({ secrets: { pkcs11Pin: PIN }, outDir: outDir() });
    await refusedWith(executeOperation(ctx, alice, request.id, noPassphrase), 'missing-secret', /set SOFTWARE_KEY_PASSPHRASE/);
    expect((await executeOperation(ctx, alice, request.id, runner())).state).toBe('executed');
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true });
  });
});

function pemDer(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}
