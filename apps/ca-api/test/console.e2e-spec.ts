import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';
import { REPO_ROOT, RunningProcess, startProcess } from '../../../test/support/processes';
import { describeWithTools } from '../../../test/support/system-tool';

const DAY = 86_400_000;

/**
 * Issue 10: the operator console in a real browser (Debian's chromium driven
 * by playwright-core; never a downloaded browser), against ca-api and a real
 * worker process on PostgreSQL. An operator signs in, changes a CRL schedule
 * and publishes CRLs; a second operator approves a key operation the first
 * one requested (the requester cannot); the audit chain is verified, and a
 * tampered record is shown where it breaks; an auditor reads but gets no
 * buttons, and sees national IDs masked but for 4 digits.
 *
 * CONSOLE_SCREENSHOT=1 also writes docs/console.png (the overview on a
 * 1366x900 laptop screen), for docs/console.md.
 */
describeWithTools(['chromium'], 'operator console in headless Chromium', () => {
  let api: CaApiHarness;
  let worker: RunningProcess;
  let browser: Browser;
  let secondOperator: { staffId: string; token: string };
  let operatorId: string;
  let requestId: string;
  const problems: string[] = [];

  beforeAll(async () => {
    const now = Date.now();
    // Ninety days of history: the harness's clock starts 89 days ago and moves forward as cards are issued and revoked.
    api = await startCaApi({ now: new Date(now - 89 * DAY).toISOString() });
    const issue = async (i: number) => {
      const cardNumber = `TP20${String(i).padStart(11, '0')}`;
      const card = await TestCard.create(cardNumber);
      const response = await api.call('POST', '/v1/applications', {
        token: api.tokens.clerk,
        body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
          applicant: { name: `持卡人${i}`, nationalId: validNationalId(2000 + i), dateOfBirth: '1980-07-01', mobile: '0933000000', email: `h${i}@example.tw` },
        }),
      });
      expect(response.status).toBe(201);
      return cardNumber;
    };
    const issued: string[] = [];
    for (let i = 0; i < 12; i++) {
      api.clock.set(new Date(now - (88 - i * 7) * DAY));
      issued.push(await issue(i));
    }
    api.clock.set(new Date(now - 20 * DAY));
    expect((await api.call('POST', `/v1/cards/${issued[0]}/revocation`, { token: api.tokens.clerk, body: { ground: 'lost-card' } })).status).toBe(200);
    api.clock.set(new Date(now - 6 * DAY));
    expect((await api.call('POST', `/v1/cards/${issued[1]}/suspension`, { token: api.tokens.clerk, body: {} })).status).toBe(200);
    api.clock.set(new Date(now));

    const operator = await api.pool.query(`SELECT id FROM staff_member WHERE name = 'Operator Huang'`);
    operatorId = operator.rows[0].id;
    secondOperator = await createStaffWithToken(api.pool, { name: 'Operator Lee', role: 'operator', officeId: null }, api.clock.now());
    const requested = await api.call('POST', '/v1/operator/key-operations', {
      token: api.tokens.operator,
      body: {
        operation: 'rotate-ocsp-signer',
        parameters: { ca: 'dev-issuing', subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'OCSP Responder 2' }], keyLocation: `software:${join(api.keysDir, 'ocsp-2.key.pem')}`, keyAlgorithm: 'EC-P-256', validityDays: 30 },
      },
    });
    expect(requested.status).toBe(201);
    requestId = requested.body.id;

    // The worker publishes what "publish now" requests (and the scheduled CRLs), as in production.
    worker = startProcess('apps/ca-api/src/worker.js', { PATH: process.env.PATH, ...api.env, PUBLIC_BASE_URL: 'http://127.0.0.1:3001', LOG_LEVEL: 'info' });
    await worker.waitFor(/worker started/);

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited();
    }
    await api?.close();
  });

  async function signIn(token: string, options: { language?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    // Every string must come from the tables, and the page must not throw.
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(String(error)));
    await page.goto(`${api.url}/console`);
    await page.getByTestId('language').selectOption(options.language ?? 'en');
    await page.getByTestId('token').fill(token);
    await page.getByTestId('token').press('Enter');
    await page.locator('.view[data-view="overview"]').waitFor();
    return { context, page };
  }

  async function open(page: Page, view: string): Promise<void> {
    await page.getByTestId(`nav-${view}`).click();
    await page.locator(`.view[data-view="${view}"]`).waitFor();
  }

  it('shows the overview: certificates by state, 90 days of activity, expiries, what needs attention; in both languages', async () => {
    const { context, page } = await signIn(api.tokens.operator);
    await expect(page.getByTestId('who').textContent()).resolves.toBe('Operator Huang (operator)');
    const counts = page.getByTestId('state-counts');
    // 12 cards of 2 certificates: one revoked, one suspended.
    await expect(counts.locator('.state-valid .value').textContent()).resolves.toBe('20');
    await expect(counts.locator('.state-revoked .value').textContent()).resolves.toBe('2');
    await expect(counts.locator('.state-suspended .value').textContent()).resolves.toBe('2');
    await expect(page.locator('svg.series-issued rect.bar').count()).resolves.toBe(90);
    await expect(page.locator('figcaption').first().textContent()).resolves.toBe('Issued (total 24)');
    await expect(page.getByTestId('attention').textContent()).resolves.toContain('1 key operation(s) waiting for approval or execution');
    await expect(page.getByTestId('expiries').locator('tbody tr').count()).resolves.toBe(3);

    await page.getByTestId('language').selectOption('zh-TW');
    await expect(page.getByTestId('nav-overview').textContent()).resolves.toBe('總覽');
    await expect(page.getByTestId('who').textContent()).resolves.toBe('Operator Huang (維運人員)');
    await expect(page.locator('figcaption').first().textContent()).resolves.toBe('新發 (合計 24)');
    await expect(page.getByTestId('attention').textContent()).resolves.toContain('1 件金鑰作業等待核准或執行。');
    // One table per language, with the same keys.
    // (a string: TypeScript would rewrite a dynamic import() for CommonJS)
    const tables = (await page.evaluate(
      `import('/console/i18n.js').then((strings) => ({ en: strings.keys('en').sort(), zh: strings.keys('zh-TW').sort() }))`,
    )) as { en: string[]; zh: string[] };
    expect(tables.en.length).toBeGreaterThan(100);
    expect(tables.zh).toEqual(tables.en);
    await page.getByTestId('language').selectOption('en');
    await context.close();
  });

  it('changes a CRL schedule and publishes CRLs now, through the API, audited', async () => {
    const { context, page } = await signIn(api.tokens.operator);
    await open(page, 'crls');
    const complete = page.getByTestId('schedule-complete');
    await complete.locator('select[name="mode"]').selectOption('interval');
    await complete.locator('input[name="intervalSeconds"]').fill('7200');
    await complete.locator('input[name="nextUpdateSeconds"]').fill('14400');
    await page.getByTestId('save-schedule-complete').click();
    await page.getByText('Schedule of the complete CRL saved.').waitFor();
    const schedule = await api.pool.query(`SELECT interval_seconds, next_update_seconds, updated_by FROM crl_schedule WHERE kind = 'complete'`);
    expect(schedule.rows).toEqual([{ interval_seconds: 7200, next_update_seconds: 14400, updated_by: expect.stringContaining(operatorId) }]);

    // A schedule the CRL rules refuse (validity shorter than the period plus its margin) is refused by the API and said on the page.
    await page.getByTestId('schedule-delta').locator('input[name="nextUpdateSeconds"]').fill('60');
    await page.getByTestId('save-schedule-delta').click();
    await page.locator('.notice.error').waitFor();
    await expect(page.locator('.notice.error').textContent()).resolves.toContain('Error 422');

    await page.getByTestId('publish-now').locator('button[type="submit"]').click();
    await page.getByText('Publication requested; the worker publishes it at once.').waitFor();
    const rows = page.getByTestId('published-crls').locator('tbody tr:not(:has(td.empty))');
    const deadline = Date.now() + 120_000;
    while ((await rows.count()) < 2 && Date.now() < deadline) {
      await page.waitForTimeout(1000);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.locator('.view[data-view="crls"]').waitFor();
    }
    const published = await api.pool.query(`SELECT count(*)::int AS n FROM published_crl`);
    expect(published.rows[0].n).toBeGreaterThanOrEqual(2);
    await expect(page.getByTestId('publications').textContent()).resolves.toContain('publish now');
    const first = await page.getByTestId('published-crls').locator('tbody tr').first().locator('td').allTextContents();
    expect(first[6]).toMatch(/\d+ B|KiB/);

    // The download link fetches the DER with the operator's token.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('published-crls').getByRole('button', { name: 'Download' }).first().click()]);
    expect(download.suggestedFilename()).toMatch(/^crl-\d+\.crl$/);

    const audit = await api.pool.query(
      `SELECT operation FROM audit_log WHERE actor_id = $1 AND operation LIKE 'crl.%' ORDER BY id`,
      [operatorId],
    );
    expect(audit.rows.map((r) => r.operation)).toEqual(['crl.schedule-changed', 'crl.publish-now']);
    await context.close();
  }, 180_000);

  it('lets a second operator approve a key operation, never the one who asked', async () => {
    const requester = await signIn(api.tokens.operator);
    await open(requester.page, 'approvals');
    const own = requester.page.getByTestId(`approve-${requestId}`);
    await expect(own.isDisabled()).resolves.toBe(true);
    await requester.page.getByText('You requested this: another operator must approve it.').first().waitFor();

    const approver = await signIn(secondOperator.token);
    await open(approver.page, 'approvals');
    await approver.page.getByTestId(`approve-${requestId}`).click();
    await approver.page.getByText('Approved.').waitFor();
    await expect(approver.page.getByTestId(`request-${requestId}`).locator('.pill').textContent()).resolves.toBe('approved');
    const stored = await api.pool.query(`SELECT state, approvals FROM key_operation_approval WHERE id = $1`, [requestId]);
    expect(stored.rows[0].state).toBe('approved');
    expect(stored.rows[0].approvals.map((a: { operator: string }) => a.operator)).toEqual([`staff:${operatorId}`, `staff:${secondOperator.staffId}`]);
    await requester.context.close();
    await approver.context.close();
  });

  it('searches the audit log and verifies the hash chain, showing where it breaks', async () => {
    const { context, page } = await signIn(api.tokens.operator);
    await open(page, 'audit');
    const search = page.getByTestId('audit-search');
    await search.locator('input[name="operation"]').fill('key-ceremony.approved');
    await search.locator('input[name="actor"]').fill(`staff:${secondOperator.staffId}`);
    await search.locator('button[type="submit"]').click();
    // The filtered answer replaces the first page of the whole log: one approval, by the second operator.
    // Polled from the test, not page.waitForFunction: that evaluates a string in the page, which the console's CSP forbids.
    const rows = page.getByTestId('audit-results').locator('tbody tr');
    for (const started = Date.now(); (await rows.count()) !== 1; ) {
      if (Date.now() - started > 10_000) throw new Error(`expected 1 audit row, the page shows ${await rows.count()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cells = await page.getByTestId('audit-results').locator('tbody td').allTextContents();
    expect(cells[2]).toContain(secondOperator.staffId);
    expect(cells[4]).toBe('key-ceremony.approved');

    await page.getByTestId('audit-verify').locator('button[type="submit"]').click();
    await page.getByTestId('chain-intact').waitFor();
    const total = (await api.pool.query(`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n;
    await expect(page.getByTestId('chain-intact').textContent()).resolves.toContain(`${total} records checked`);

    // Someone with database access edits a record behind the API's back: the console shows which one.
    const target = (await api.pool.query(`SELECT id::text FROM audit_log WHERE operation = 'crl.publish-now'`)).rows[0].id;
    await api.pool.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    await api.pool.query(`UPDATE audit_log SET detail = '{"edited": true}' WHERE id = $1`, [target]);
    await api.pool.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    await page.getByTestId('audit-verify').locator('button[type="submit"]').click();
    await page.getByTestId('chain-broken').waitFor();
    await expect(page.getByTestId('chain-broken').textContent()).resolves.toContain(`The chain breaks at record ${target}: its content no longer matches its hash`);
    // A range before the edit is still intact.
    await page.getByTestId('audit-verify').locator('input[name="toId"]').fill(String(Number(target) - 1));
    await page.getByTestId('audit-verify').locator('button[type="submit"]').click();
    await page.getByTestId('chain-intact').waitFor();
    await context.close();
  });

  it('retries a failed job from the jobs page', async () => {
    // Two e-mail notice jobs failed for good (as after max attempts); no SMTP_URL here, so no worker runs them.
    const failed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const added = await api.pool.query(`SELECT (graphile_worker.add_job('notice-email', '{}'::json, max_attempts := 3)).id::text AS id`);
      failed.push(added.rows[0].id);
    }
    await api.pool.query(`UPDATE graphile_worker._private_jobs SET attempts = 3, last_error = 'SMTP gateway unreachable' WHERE id = ANY($1::bigint[])`, [failed]);
    const { context, page } = await signIn(api.tokens.operator);
    await open(page, 'jobs');
    await expect(page.getByTestId('failed-jobs').textContent()).resolves.toContain('SMTP gateway unreachable');
    await page.getByTestId(`retry-${failed[0]}`).click();
    await page.getByText(`Job ${failed[0]} will run again now.`).waitFor();
    // The job keeps its last error until it runs; its attempts start again.
    const row = page.getByTestId('failed-jobs').locator('tr', { has: page.getByTestId(`retry-${failed[0]}`) });
    await expect(row.locator('td').allTextContents()).resolves.toEqual(expect.arrayContaining(['0/3', 'Retrying', 'SMTP gateway unreachable']));
    const jobs = await api.pool.query(`SELECT id::text, attempts FROM graphile_worker.jobs WHERE id = ANY($1::bigint[]) ORDER BY id`, [failed]);
    expect(jobs.rows).toEqual([{ id: failed[0], attempts: 0 }, { id: failed[1], attempts: 3 }]);
    const audit = await api.pool.query(`SELECT actor_id FROM audit_log WHERE operation = 'job.retried' AND subject_id = $1`, [failed[0]]);
    // The overview counts the one still failed for good.
    await open(page, 'overview');
    await expect(page.getByTestId('attention').textContent()).resolves.toContain('1 failed notice-email job(s).');
    expect(audit.rows).toEqual([{ actor_id: operatorId }]);
    await context.close();
  });

  it('shows an auditor everything but no buttons, and national IDs masked but for 4 digits', async () => {
    const { context, page } = await signIn(api.tokens.auditor, { language: 'zh-TW' });
    await open(page, 'crls');
    await expect(page.locator('[data-testid^="save-schedule-"]').count()).resolves.toBe(0);
    await expect(page.getByTestId('publish-now').count()).resolves.toBe(0);
    await open(page, 'approvals');
    await expect(page.locator('[data-testid^="approve-"], [data-testid^="reject-"], [data-testid^="execute-"]').count()).resolves.toBe(0);
    await open(page, 'jobs');
    await expect(page.getByTestId('failed-jobs').textContent()).resolves.toContain('SMTP gateway unreachable');
    await expect(page.locator('[data-testid^="retry-"]').count()).resolves.toBe(0);

    await open(page, 'certificates');
    await page.locator('select[name="by"]').selectOption('cardNumber');
    await page.locator('input[name="q"]').fill('TP2000000000000');
    await page.locator('input[name="q"]').press('Enter');
    await page.getByTestId('national-id').first().waitFor();
    await expect(page.getByTestId('national-id').first().textContent()).resolves.toBe(`******${validNationalId(2000).slice(-4)}`);
    await expect(page.getByTestId('certificate-results').textContent()).resolves.not.toContain(validNationalId(2000));
    await expect(page.getByTestId('certificate-results').textContent()).resolves.toContain('廢止');
    await context.close();

    const operator = await signIn(api.tokens.operator);
    await open(operator.page, 'certificates');
    await operator.page.locator('select[name="by"]').selectOption('cardNumber');
    await operator.page.locator('input[name="q"]').fill('TP2000000000001');
    await operator.page.locator('input[name="q"]').press('Enter');
    await operator.page.locator('article.certificate').first().waitFor();
    await expect(operator.page.getByTestId('national-id').count()).resolves.toBe(0);
    await expect(operator.page.getByTestId('certificate-results').textContent()).resolves.toContain('Suspended');
    await operator.context.close();
  });

  it('fits a 1280-pixel laptop screen: no view scrolls sideways, in either language', async () => {
    const { context, page } = await signIn(api.tokens.operator);
    await page.setViewportSize({ width: 1280, height: 720 });
    for (const language of ['en', 'zh-TW']) {
      await page.getByTestId('language').selectOption(language);
      for (const view of ['overview', 'crls', 'jobs', 'approvals', 'audit', 'certificates']) {
        await open(page, view);
        const widths = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
        expect({ language, view, scrollWidth: widths[0] }).toEqual({ language, view, scrollWidth: widths[1] });
      }
    }
    await context.close();
  });

  it('refuses staff of other roles at sign-in', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${api.url}/console`);
    await page.getByTestId('language').selectOption('en');
    await page.getByTestId('token').fill(api.tokens.clerk);
    await page.getByTestId('token').press('Enter');
    await page.getByText('This console is for operators and auditors.').waitFor();
    await expect(page.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    await context.close();
  });

  it('used only strings from the tables and raised no script error', async () => {
    // Failed calls the tests provoked (422, 403) are logged by the browser as errors; anything else is a defect.
    expect(problems.filter((text) => !/status of (422|403)/.test(text))).toEqual([]);
  });

  it('writes the overview screenshot for docs/console.md when CONSOLE_SCREENSHOT is set', async () => {
    if (!process.env.CONSOLE_SCREENSHOT) return;
    const { context, page } = await signIn(api.tokens.operator);
    await page.getByTestId('state-counts').waitFor();
    mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'docs', 'console.png'), fullPage: true });
    await context.close();
  });
});
