import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../tools/embedded-postgres';
import { startProcess } from './support/processes';

/**
 * The README's first command, as a new user runs it: no DATABASE_URL (an
 * embedded PostgreSQL starts), a development CA is created, the three
 * processes come up ready, Ctrl-C stops everything, and a second start
 * reuses the data and keys.
 */
describe('quick start (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'moica-quick-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function startStack() {
    const [caApiPort, ocspPort, pgPort] = [await freePort(), await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, MOICA_DATA_DIR: dataDir, CA_API_PORT: String(caApiPort), OCSP_PORT: String(ocspPort), EMBEDDED_PG_PORT: String(pgPort) };
    delete env.DATABASE_URL;
    delete env.FAKE_CLOCK;
    const stack = startProcess('tools/dev-stack.js', env);
    await stack.waitFor(/\[dev-stack\] Ctrl-C stops everything/, 120_000);
    return { stack, caApi: `http://127.0.0.1:${caApiPort}`, ocsp: `http://127.0.0.1:${ocspPort}` };
  }

  it('starts everything on an embedded PostgreSQL, stops cleanly, and restarts on the same data', async () => {
    const first = await startStack();
    expect(first.stack.output()).toMatch(/embedded PostgreSQL/);
    expect(first.stack.output()).toMatch(/created a DEVELOPMENT CA hierarchy/);

    const ready = await fetch(`${first.caApi}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { 'ca-keys': expect.stringMatching(/^ok: 1 issuing-ca/) } });
    const ocspReady = await fetch(`${first.ocsp}/readyz`);
    expect(await ocspReady.json()).toMatchObject({ status: 'ready', checks: { 'ca-keys': expect.stringMatching(/^ok: 1 ocsp-signer/) } });
    const openapi = (await (await fetch(`${first.caApi}/openapi.json`)).json()) as { openapi: string; paths: object };
    expect(openapi.openapi).toMatch(/^3\./);
    expect((await fetch(`${first.caApi}/docs`)).status).toBe(200);
    // The development tokens work: a clerk may not read the audit log, an auditor may.
    const tokens = JSON.parse(readFileSync(join(dataDir, 'dev-tokens.json'), 'utf8')) as Record<string, string>;
    expect((await fetch(`${first.caApi}/v1/audit`, { headers: { authorization: `Bearer ${tokens.clerk}` } })).status).toBe(403);
    expect((await fetch(`${first.caApi}/v1/audit`, { headers: { authorization: `Bearer ${tokens.auditor}` } })).status).toBe(200);
    // The operator console is served by the compiled ca-api, and its URL is printed.
    expect(first.stack.output()).toContain(`console         ${first.caApi}/console`);
    expect((await fetch(`${first.caApi}/console`)).status).toBe(200);
    const missing = await fetch(`${first.caApi}/no-such-route`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.headers.get('x-request-id')).toBeTruthy();

    first.stack.child.kill('SIGINT');
    expect(await first.stack.exited()).toEqual({ code: 0, signal: null });
    expect(first.stack.output()).toMatch(/\[dev-stack\] stopped/);

    const second = await startStack();
    expect(second.stack.output()).toMatch(/reusing the development CA hierarchy/);
    expect(second.stack.output()).toMatch(/schema up to date/);
    expect((await fetch(`${second.caApi}/readyz`)).status).toBe(200);
    second.stack.child.kill('SIGTERM');
    expect(await second.stack.exited()).toEqual({ code: 0, signal: null });
  }, 240_000);
});

describe('configuration is checked at boot', () => {
  it.each([
    ['apps/ca-api/src/main.js'],
    ['apps/ocsp-responder/src/main.js'],
    ['apps/ca-api/src/worker.js'],
  ])('%s stops with a message naming each bad variable', async (entry) => {
    const env = { PATH: process.env.PATH, CA_API_PORT: 'eighty', PII_ENCRYPTION_KEY: 'c2hvcnQ=' } as NodeJS.ProcessEnv;
    const app = startProcess(entry, env);
    const { code } = await app.exited();
    expect(code).toBe(1);
    expect(app.output()).toMatch(/invalid configuration/);
    expect(app.output()).toMatch(/DATABASE_URL/);
    expect(app.output()).toMatch(/CA_API_PORT/);
    expect(app.output()).toMatch(/PII_ENCRYPTION_KEY must decode to exactly 32 bytes/);
    expect(app.output()).toMatch(/PII_HMAC_KEY/);
  });
});
