import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { verifyAuditChain } from '../../db/audit-chain';
import { createTestDatabase } from '../../test/support/database';
import { describeWithTools } from '../../test/support/system-tool';
import { auditRecords, closePool, createStaffWithToken, TestOperator } from './testing/ceremony-fixtures';

const REPO_ROOT = resolve(__dirname, '..', '..');
const ENTRY = join(REPO_ROOT, 'dist', 'tools', 'key-ceremony.js');
const PASSPHRASE = 'cli-ceremony-passphrase';

/** Newest modification time of the TypeScript sources the compiled CLI is made of (its own folder and the migrations). */
function newestSource(): number {
  const files = [join(REPO_ROOT, 'tools', 'key-ceremony.ts')];
  for (const folder of [join(REPO_ROOT, 'tools', 'key-ceremony'), join(REPO_ROOT, 'db', 'migrations')]) {
    for (const name of readdirSync(folder)) if (name.endsWith('.ts') && !name.includes('spec')) files.push(join(folder, name));
  }
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/**
 * Builds dist/ when the compiled CLI is missing or older than its sources.
 * Type errors elsewhere in the repository (tsc still emits) do not stop this
 * test; `npm run typecheck` is where they fail.
 */
function ensureBuilt(): void {
  if (existsSync(ENTRY) && statSync(ENTRY).mtimeMs >= newestSource()) return;
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(ENTRY) || statSync(ENTRY).mtimeMs < newestSource()) {
    throw new Error(`npm run build did not produce ${ENTRY}:\n${build.stdout}${build.stderr}`);
  }
}

describeWithTools(['openssl'], 'npm run key-ceremony (the compiled CLI as a process)', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let directory: string;
  let alice: TestOperator;
  let bob: TestOperator;
  const outputs: string[] = [];

  function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [ENTRY, ...args], {
      cwd: directory,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, SOFTWARE_KEY_PASSPHRASE: PASSPHRASE, ...env },
    });
    outputs.push(result.stdout, result.stderr);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  beforeAll(async () => {
    ensureBuilt();
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    directory = mkdtempSync(join(tmpdir(), 'moica-ceremony-cli-'));
    alice = await createStaffWithToken(pool, 'Alice Operator');
    bob = await createStaffWithToken(pool, 'Bob Operator');
    mkdirSync(join(directory, 'tokens'), { mode: 0o700 });
    writeFileSync(join(directory, 'tokens', 'alice'), `${alice.token}\n`, { mode: 0o600 });
    writeFileSync(join(directory, 'tokens', 'bob'), `${bob.token}\n`, { mode: 0o600 });
  }, 300_000);

  afterAll(async () => {
    if (pool) await closePool(pool);
    await db?.drop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('two operators create a root CA: request, a refused self-approval, approve, execute once, list keys; no secret is printed', async () => {
    const requested = cli([
      'request', 'create-root', '--name', 'cli-root', '--subject', 'C=TW, O=內政部, CN=CLI Test Root',
      '--key-location', `software:${join(directory, 'keys', 'cli-root.key.pem')}`, '--algorithm', 'EC-P-256',
      '--validity-years', '5', '--operator-token-file', 'tokens/alice', '--json',
    ]);
    expect(requested).toMatchObject({ status: 0, stderr: '' });
    const request = JSON.parse(requested.stdout) as { id: string; parametersDigest: string; state: string };
    expect(request.state).toBe('pending');

    const own = cli(['approve', request.id, '--operator-token-file', 'tokens/alice']);
    expect(own.status).toBe(2);
    expect(own.stderr).toMatch(/refused \(own-request\): Alice Operator requested .* cannot also approve it/);

    const early = cli(['execute', request.id, '--operator-token-file', 'tokens/alice']);
    expect(early.status).toBe(2);
    expect(early.stderr).toMatch(/refused \(not-approved\): .* 1 of 2 approvals/);

    const shown = cli(['show', request.id]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`parameters digest: ${request.parametersDigest}`);
    expect(shown.stdout).toContain('subject: C=TW, O=內政部, CN=CLI Test Root');

    // Bob's token from the environment, approving the digest he reviewed.
    const approved = cli(['approve', request.id, '--digest', request.parametersDigest], { MOICA_OPERATOR_TOKEN: bob.token });
    expect(approved.status).toBe(0);
    expect(approved.stdout).toMatch(/state: approved \(2 of 2 approvals\)/);

    const executed = cli(['execute', request.id, '--operator-token-file', 'tokens/alice', '--out-dir', 'out']);
    expect(executed.stderr).toBe('');
    expect(executed.status).toBe(0);
    expect(executed.stdout).toMatch(/state: executed/);
    expect(executed.stdout).toMatch(/serial: [0-9a-f]{32,34}/);
    expect(executed.stdout).toMatch(/certificateSha256: [0-9a-f]{64}/);
    const certificate = join(directory, 'out', 'cli-root.crt.pem');
    const text = spawnSync('openssl', ['x509', '-in', certificate, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus_space'], { encoding: 'utf8' });
    expect(text.stdout).toContain('C=TW, O=內政部, CN=CLI Test Root');

    const again = cli(['execute', request.id, '--operator-token-file', 'tokens/alice', '--out-dir', 'out']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/refused \(already-executed\)/);

    const listed = cli(['list-keys', '--operator-token-file', 'tokens/bob']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/cli-root \(root, DEVELOPMENT\) C=TW, O=內政部, CN=CLI Test Root/);

    const requests = cli(['requests', '--state', 'executed']);
    expect(requests.stdout).toContain(`${request.id}  executed  create-root`);

    const quorum = cli(['request', 'create-root', '--name', 'x', '--subject', 'CN=x', '--key-location', 'software:/tmp/x', '--algorithm', 'EC-P-256', '--validity-years', '1', '--operator-token-file', 'tokens/alice'], { KEY_CEREMONY_QUORUM: '1' });
    expect(quorum.status).toBe(2);
    expect(quorum.stderr).toMatch(/refused \(quorum-misconfigured\): KEY_CEREMONY_QUORUM=1 is refused/);
    expect(cli(['approve', request.id])).toMatchObject({ status: 2, stderr: expect.stringMatching(/no operator token/) });
    expect(cli(['frobnicate'])).toMatchObject({ status: 64, stderr: expect.stringMatching(/unknown command "frobnicate"/) });

    // Audit: request, refused self-approval, refused early execution, approval, execution, refused second execution, key listing.
    expect((await auditRecords(pool)).map((record) => record.operation)).toEqual([
      'key-ceremony.requested',
      'key-ceremony.refused',
      'key-ceremony.refused',
      'key-ceremony.approved',
      'key-ceremony.executed',
      'key-ceremony.refused',
      'key-ceremony.keys-listed',
    ]);
    expect(await verifyAuditChain(pool)).toMatchObject({ intact: true, checked: 7 });
    const everything = outputs.join('\n');
    for (const secret of [alice.token, bob.token, PASSPHRASE]) expect(everything).not.toContain(secret);
  });
  it('two operators create and then rotate the card unlock master key (docs/card-unlock.md)', async () => {
    const approve = (version: number, file: string) => {
      const requested = cli([
        'request', 'create-card-unlock-master-key', '--version', String(version),
        '--key-location', `software:${join(directory, 'keys', file)}`, '--operator-token-file', 'tokens/alice', '--json',
      ]);
      expect(requested).toMatchObject({ status: 0, stderr: '' });
      const { id } = JSON.parse(requested.stdout) as { id: string };
      expect(cli(['approve', id, '--operator-token-file', 'tokens/bob']).status).toBe(0);
      return id;
    };
    const execute = (id: string) => cli(['execute', id, '--operator-token-file', 'tokens/bob', '--json']);
    const run = (version: number, file: string) => execute(approve(version, file));
    const first = run(1, 'card-unlock-master-1.key');
    expect(first).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(first.stdout).result).toMatchObject({ version: 1, development: true, deactivatedVersion: null });
    expect(statSync(join(directory, 'keys', 'card-unlock-master-1.key')).mode & 0o777).toBe(0o600);
    const skipped = cli(['request', 'create-card-unlock-master-key', '--version', '3', '--key-location', `software:${join(directory, 'keys', 'x.key')}`, '--operator-token-file', 'tokens/alice']);
    expect(skipped.status).toBe(2);
    expect(skipped.stderr).toMatch(/the next card unlock master key version is 2, not 3/);
    // Two requests for version 2, both approved: the first executed wins, the second is refused and makes no key.
    const secondId = approve(2, 'card-unlock-master-2.key');
    const rivalId = approve(2, 'card-unlock-master-2b.key');
    const second = execute(secondId);
    expect(JSON.parse(second.stdout).result).toMatchObject({ version: 2, deactivatedVersion: 1 });
    const rival = execute(rivalId);
    expect(rival.status).toBe(2);
    expect(rival.stderr).toMatch(/the next card unlock master key version is 3, not 2/);
    expect(existsSync(join(directory, 'keys', 'card-unlock-master-2b.key'))).toBe(false);
    const { rows } = await pool.query(`SELECT version, active FROM card_unlock_master_key ORDER BY version`);
    expect(rows).toEqual([{ version: 1, active: false }, { version: 2, active: true }]);
    const listed = cli(['list-keys', '--operator-token-file', 'tokens/bob']);
    expect(listed.stdout).toMatch(/card unlock master keys:\n  version 1 DEVELOPMENT: AES-256 at software:.*card-unlock-master-1\.key.*\n  version 2 \(active\) DEVELOPMENT/);
    expect(outputs.join('\n')).not.toContain(PASSPHRASE);
  });
});
