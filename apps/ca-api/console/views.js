// The console's views. Each renders into `root` from /v1 answers; actions call
// the API and re-render. Operators get the buttons; auditors read.
import { api, ApiProblem, download, query } from './api.js';
import { dailyBarChart, stateBar } from './charts.js';
import { h, table } from './dom.js';
import { bytes, t, time } from './i18n.js';

const STATES = ['valid', 'suspended', 'revoked', 'expired', 'on-hold-until-activated', 'not-yet-valid'];

function isOperator(ctx) {
  return ctx.session.role === 'operator';
}

function section(title, ...children) {
  return h('section.card', {}, h('h2', {}, title), ...children);
}

/** Runs an action, tells the user how it went, and re-renders the view. */
async function act(ctx, work, success) {
  try {
    await work();
    await ctx.rerender();
    ctx.notify(success, 'ok');
  } catch (error) {
    ctx.notify(problemText(error), 'error');
  }
}

export function problemText(error) {
  if (error instanceof ApiProblem) return `${t('error')} ${error.status}: ${error.message}${error.code ? ` (${error.code})` : ''}`;
  return `${t('error')}: ${error?.message ?? error}`;
}

// --- Overview --------------------------------------------------------------

/** What needs attention, in the current language, from the figures the API gives with each item. */
function attentionText(item) {
  const data = { ...item.data };
  for (const name of ['nextUpdate', 'notAfter']) if (data[name]) data[name] = time(data[name]);
  if (data.crlKind) data.scope = t(`crl.kind.${data.crlKind}`) + (data.partition === null || data.partition === undefined ? '' : ` ${data.partition}`);
  if (item.kind === 'crl-next-update' && data.expired) return t('attention.text.crl-expired', data);
  return t(`attention.text.${item.kind}`, data);
}

export async function overview(root, ctx) {
  const data = await api('GET', '/v1/operator/overview');
  const counts = STATES.map((state) => ({ state, label: t(`state.${state}`), value: data.certificatesByState[state] ?? 0 }));
  const series = (name) => data.daily.map((d) => ({ day: d.day, value: d[name] }));
  const total = (name) => data.daily.reduce((sum, d) => sum + d[name], 0);
  root.append(
    section(
      t('overview.attention'),
      data.attention.length
        ? h('ul.attention', { 'data-testid': 'attention' }, data.attention.map((a) => h(`li.attention-${a.kind}`, {}, h('strong', {}, t(`attention.${a.kind}`)), ' ', attentionText(a))))
        : h('p.quiet', { 'data-testid': 'attention' }, t('overview.nothing')),
    ),
    section(
      t('overview.byState'),
      h('div.counts', { 'data-testid': 'state-counts' }, counts.map((c) => h(`div.count.state-${c.state}`, {}, h('span.value', {}, c.value.toLocaleString()), h('span.label', {}, c.label)))),
      stateBar(counts),
    ),
    section(
      t('overview.daily', { days: data.daily.length }),
      h('div.charts', {},
        ['issued', 'renewed', 'revoked'].map((name) =>
          h('figure', {}, h('figcaption', {}, `${t(`daily.${name}`)} (${t('total')} ${total(name)})`),
            dailyBarChart(series(name), { title: t(`daily.${name}`), colorClass: `series-${name}`, valueLabel: t(`daily.${name}`) })),
        ),
      ),
    ),
    section(
      t('overview.expiries'),
      table(
        [t('kind'), t('name'), t('role'), t('active'), t('notAfter')],
        data.expiries.map((e) => [t(`expiry.${e.kind}`), e.name, e.role, e.active ? t('yes') : t('no'), time(e.notAfter)]),
        { testId: 'expiries' },
      ),
    ),
    h('p.quiet', {}, t('overview.at', { at: time(data.at) })),
  );
}

// --- CRLs ------------------------------------------------------------------

function scheduleForm(ctx, ca, schedule) {
  const mode = h('select', { name: 'mode', 'aria-label': t('crl.mode') },
    h('option', { value: 'interval', selected: schedule.intervalSeconds !== null }, t('crl.interval')),
    h('option', { value: 'cron', selected: schedule.cron !== null }, 'cron'));
  const interval = h('input', { name: 'intervalSeconds', type: 'number', min: 60, value: schedule.intervalSeconds ?? '', 'aria-label': t('crl.intervalSeconds') });
  const cron = h('input', { name: 'cron', value: schedule.cron ?? '', placeholder: '0 0 * * *', 'aria-label': 'cron' });
  const timeZone = h('input', { name: 'cronTimeZone', value: schedule.cronTimeZone, 'aria-label': t('crl.timeZone') });
  const nextUpdate = h('input', { name: 'nextUpdateSeconds', type: 'number', min: 60, value: schedule.nextUpdateSeconds, 'aria-label': t('crl.nextUpdateSeconds') });
  const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: schedule.enabled, 'aria-label': t('crl.enabled') });
  const editable = isOperator(ctx);
  for (const input of [mode, interval, cron, timeZone, nextUpdate, enabled]) if (!editable) input.disabled = true;
  const save = editable
    ? h('button', {
        type: 'submit',
        'data-testid': `save-schedule-${schedule.kind}`,
      }, t('save'))
    : null;
  const form = h('form.schedule', {
    'data-testid': `schedule-${schedule.kind}`,
    onsubmit: (event) => {
      event.preventDefault();
      const body = { nextUpdateSeconds: Number(nextUpdate.value), enabled: enabled.checked };
      if (mode.value === 'cron') Object.assign(body, { cron: cron.value.trim(), cronTimeZone: timeZone.value.trim() });
      else body.intervalSeconds = Number(interval.value);
      void act(ctx, () => api('PUT', `/v1/crl/authorities/${ca.id}/schedules/${schedule.kind}`, body), t('crl.saved', { kind: t(`crl.kind.${schedule.kind}`) }));
    },
  });
  form.append(
    h('strong.kind', {}, t(`crl.kind.${schedule.kind}`), schedule.isDefault ? h('span.badge', {}, t('crl.default')) : null),
    h('label', {}, t('crl.mode'), mode),
    h('label', {}, t('crl.intervalSeconds'), interval),
    h('label', {}, 'cron', cron),
    h('label', {}, t('crl.timeZone'), timeZone),
    h('label', {}, t('crl.nextUpdateSeconds'), nextUpdate),
    h('label.inline', {}, enabled, t('crl.enabled')),
    save,
  );
  return form;
}

export async function crls(root, ctx) {
  const cas = (await api('GET', '/v1/operator/cas')).filter((ca) => ca.role === 'issuing');
  if (cas.length === 0) root.append(h('p.quiet', {}, t('crl.noCa')));
  for (const ca of cas) {
    const [schedules, publications, published] = await Promise.all([
      api('GET', `/v1/crl/authorities/${ca.id}/schedules`),
      api('GET', `/v1/crl/authorities/${ca.id}/publications?limit=10`),
      api('GET', `/v1/crl/authorities/${ca.id}/crls?limit=25`),
    ]);
    const kinds = ['complete', 'partition', 'delta'].map((kind) => h('input', { type: 'checkbox', value: kind, checked: true, 'aria-label': t(`crl.kind.${kind}`) }));
    root.append(
      h('h2.ca-name', {}, ca.name, ' ', h('span.quiet', {}, ca.subject)),
      section(t('crl.schedules'), h('div.schedules', {}, schedules.map((s) => scheduleForm(ctx, ca, s)))),
      isOperator(ctx)
        ? section(
            t('crl.publishNow'),
            h('form.inline-form', {
              'data-testid': 'publish-now',
              onsubmit: (event) => {
                event.preventDefault();
                const chosen = kinds.filter((k) => k.checked).map((k) => k.value);
                void act(ctx, () => api('POST', `/v1/crl/authorities/${ca.id}/publications`, { kinds: chosen }), t('crl.requested'));
              },
            },
            kinds.map((k) => h('label.inline', {}, k, t(`crl.kind.${k.value}`))),
            h('button', { type: 'submit' }, t('crl.publishNow'))),
          )
        : null,
      section(
        t('crl.publications'),
        table(
          [t('crl.kindHeading'), t('crl.trigger'), t('state'), t('crl.attempts'), t('crl.requestedAt'), t('crl.publishedAt'), t('error')],
          publications.map((p) => [t(`crl.kind.${p.kind}`), t(`crl.trigger.${p.trigger}`), h(`span.pill.pub-${p.state}`, {}, t(`crl.state.${p.state}`)), p.attempts, time(p.requestedAt), time(p.publishedAt), p.lastError ?? '']),
          { testId: 'publications' },
        ),
      ),
      section(
        t('crl.history'),
        table(
          [t('crl.number'), t('crl.kindHeading'), t('crl.partition'), 'thisUpdate', 'nextUpdate', t('crl.entries'), t('crl.size'), ''],
          published.map((c) => [
            c.crlNumber,
            t(`crl.one.${c.kind}`),
            c.partition ?? '',
            time(c.thisUpdate),
            time(c.nextUpdate),
            c.entryCount.toLocaleString(),
            bytes(c.byteSize),
            h('button.link', { type: 'button', onclick: () => download(`/v1/crl/crls/${c.id}/der`, `crl-${c.crlNumber}.crl`).catch((e) => ctx.notify(problemText(e), 'error')) }, t('download')),
          ]),
          { testId: 'published-crls', empty: t('crl.none') },
        ),
      ),
    );
  }
}

// --- Jobs ------------------------------------------------------------------

export async function jobs(root, ctx) {
  const data = await api('GET', '/v1/operator/jobs');
  const jobRow = (job, withRetry) => [
    job.id,
    job.task,
    job.key ?? '',
    time(job.runAt),
    `${job.attempts}/${job.maxAttempts}`,
    job.lockedAt ? t('jobs.running') : job.attempts >= job.maxAttempts ? t('jobs.failed') : job.lastError ? t('jobs.retrying') : '',
    h('code.error', {}, job.lastError ?? ''),
    withRetry && isOperator(ctx)
      ? h('button', { type: 'button', 'data-testid': `retry-${job.id}`, onclick: () => act(ctx, () => api('POST', `/v1/operator/jobs/${job.id}/retry`), t('jobs.retried', { id: job.id })) }, t('jobs.retry'))
      : '',
  ];
  const headings = ['id', t('jobs.task'), t('jobs.key'), t('jobs.runAt'), t('crl.attempts'), t('state'), t('error'), ''];
  root.append(
    section(t('jobs.counts'), table([t('jobs.task'), t('jobs.pending'), t('jobs.retrying'), t('jobs.running'), t('jobs.failed')], data.jobs.map((j) => [j.task, j.pending, j.retrying, j.running, j.failed]), { testId: 'job-counts' })),
    section(t('jobs.failedJobs'), table(headings, data.failedJobs.map((j) => jobRow(j, true)), { testId: 'failed-jobs' })),
    section(t('jobs.pendingJobs'), table(headings, data.pendingJobs.map((j) => jobRow(j, false)), { testId: 'pending-jobs' })),
    section(
      t('jobs.failedNotices'),
      table([t('jobs.notice'), t('jobs.channel'), t('crl.attempts'), t('error'), t('jobs.dueAt')], data.failedNotices.map((n) => [n.kind, n.channel, n.attempts, n.lastError ?? '', time(n.dueAt)]), { testId: 'failed-notices' }),
    ),
  );
}

// --- Approvals -------------------------------------------------------------

export async function approvals(root, ctx) {
  const [pending, approved, recent] = await Promise.all([
    api('GET', '/v1/operator/key-operations?state=pending'),
    api('GET', '/v1/operator/key-operations?state=approved'),
    api('GET', '/v1/operator/key-operations'),
  ]);
  const me = `staff:${ctx.session.staffId}`;
  const card = (request) => {
    const mine = request.requestedBy === me;
    const approvedByMe = request.approvals.some((a) => a.operator === me);
    const reason = h('input', { name: 'reason', placeholder: t('approvals.reason'), 'aria-label': t('approvals.reason') });
    const actions = [];
    if (isOperator(ctx) && request.state === 'pending') {
      actions.push(
        h('button', {
          type: 'button',
          'data-testid': `approve-${request.id}`,
          disabled: mine || approvedByMe,
          title: mine ? t('approvals.ownRequest') : undefined,
          onclick: () => act(ctx, () => api('POST', `/v1/operator/key-operations/${request.id}/approval`, { parametersDigest: request.parametersDigest }), t('approvals.approved')),
        }, t('approvals.approve')),
      );
    }
    if (isOperator(ctx) && request.state === 'approved' && approvedByMe) {
      actions.push(h('button', { type: 'button', 'data-testid': `execute-${request.id}`, onclick: () => act(ctx, () => api('POST', `/v1/operator/key-operations/${request.id}/execution`), t('approvals.executed')) }, t('approvals.execute')));
    }
    if (isOperator(ctx) && (request.state === 'pending' || request.state === 'approved')) {
      actions.push(reason, h('button.danger', {
        type: 'button',
        'data-testid': `reject-${request.id}`,
        onclick: () => act(ctx, () => api('POST', `/v1/operator/key-operations/${request.id}/rejection`, { reason: reason.value.trim() || '-' }), t('approvals.rejected')),
      }, t('approvals.reject')));
    }
    return h('article.request', { 'data-testid': `request-${request.id}` },
      h('h3', {}, request.operation, ' ', h(`span.pill.req-${request.state}`, {}, t(`approvals.state.${request.state}`))),
      h('dl', {},
        h('dt', {}, t('approvals.requestedBy')), h('dd', {}, request.approvals[0]?.name ?? request.requestedBy, mine ? ` (${t('approvals.you')})` : ''),
        h('dt', {}, t('approvals.count')), h('dd', {}, `${request.approvals.length} / ${request.required}: `, request.approvals.map((a) => a.name).join(', ')),
        h('dt', {}, t('approvals.digest')), h('dd', {}, h('code', {}, request.parametersDigest)),
        h('dt', {}, t('approvals.requestedAt')), h('dd', {}, time(request.createdAt)),
      ),
      h('pre.parameters', {}, JSON.stringify(request.parameters, null, 2)),
      mine && request.state === 'pending' ? h('p.quiet', {}, t('approvals.ownRequest')) : null,
      h('div.actions', {}, actions),
    );
  };
  const open = [...pending, ...approved];
  root.append(
    section(t('approvals.open'), open.length ? h('div.requests', {}, open.map(card)) : h('p.quiet', { 'data-testid': 'no-requests' }, t('approvals.none'))),
    section(
      t('approvals.recent'),
      table([t('approvals.operation'), t('state'), t('approvals.count'), t('approvals.requestedAt')],
        recent.filter((r) => r.state === 'executed' || r.state === 'rejected').slice(0, 20).map((r) => [r.operation, t(`approvals.state.${r.state}`), `${r.approvals.length}/${r.required}`, time(r.createdAt)])),
    ),
  );
}

// --- Audit -----------------------------------------------------------------

export async function audit(root, ctx) {
  const field = (name, label, attributes = {}) => h('label', {}, label, h('input', { name, 'aria-label': label, ...attributes }));
  const results = h('div.results');
  const verdict = h('div.verdict', { 'data-testid': 'verdict', 'aria-live': 'polite' });
  let filters = {};
  const search = async (beforeId) => {
    const rows = await api('GET', `/v1/audit${query({ ...filters, beforeId, limit: 50 })}`);
    if (!beforeId) results.replaceChildren();
    results.append(
      table(
        ['id', t('audit.at'), t('audit.actor'), t('audit.office'), t('audit.operation'), t('audit.subject'), t('audit.change'), 'hash'],
        rows.map((r) => [
          r.id,
          time(r.at),
          `${r.actorKind}${r.actorId ? ` ${r.actorId}` : ''}`,
          r.officeId ?? '',
          r.operation,
          r.subjectId ? `${r.subjectKind ?? ''} ${r.subjectId}` : '',
          h('code.change', {}, [r.before ? `- ${JSON.stringify(r.before)}` : '', r.after ? `+ ${JSON.stringify(r.after)}` : ''].filter(Boolean).join('\n')),
          h('code', { title: r.hash }, r.hash.slice(0, 12)),
        ]),
        { testId: 'audit-results', empty: t('audit.none') },
      ),
    );
    if (rows.length === 50) {
      const more = h('button', { type: 'button', onclick: () => (more.remove(), search(rows[rows.length - 1].id).catch((e) => ctx.notify(problemText(e), 'error'))) }, t('audit.older'));
      results.append(more);
    }
  };
  const searchForm = h('form.filters', {
    'data-testid': 'audit-search',
    onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      const at = (name) => (data.get(name) ? new Date(String(data.get(name))).toISOString() : undefined);
      filters = { actor: data.get('actor'), office: data.get('office'), operation: data.get('operation'), subject: data.get('subject'), from: at('from'), to: at('to') };
      search().catch((e) => ctx.notify(problemText(e), 'error'));
    },
  },
  field('actor', t('audit.actor'), { placeholder: t('audit.staffId') }),
  field('office', t('audit.office'), { placeholder: 'uuid' }),
  field('operation', t('audit.operation'), { placeholder: 'crl.*' }),
  field('subject', t('audit.subject'), { placeholder: t('audit.subjectHint') }),
  field('from', t('audit.from'), { type: 'datetime-local' }),
  field('to', t('audit.to'), { type: 'datetime-local' }),
  h('button', { type: 'submit' }, t('search')));
  const verifyForm = h('form.filters', {
    'data-testid': 'audit-verify',
    onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      verdict.replaceChildren(t('audit.verifying'));
      api('GET', `/v1/audit/verification${query({ fromId: data.get('fromId'), toId: data.get('toId') })}`)
        .then((v) =>
          verdict.replaceChildren(
            v.intact
              ? h('p.ok', { 'data-testid': 'chain-intact' }, t('audit.intact', { checked: v.checked, lastId: v.lastId ?? '-' }))
              : h('p.bad', { 'data-testid': 'chain-broken' }, t('audit.broken', { brokenAt: v.brokenAt, problem: t(`audit.problem.${v.problem}`), checked: v.checked })),
          ),
        )
        .catch((e) => verdict.replaceChildren(h('p.bad', {}, problemText(e))));
    },
  },
  field('fromId', t('audit.fromId'), { inputmode: 'numeric', pattern: '\\d*' }),
  field('toId', t('audit.toId'), { inputmode: 'numeric', pattern: '\\d*' }),
  h('button', { type: 'submit' }, t('audit.verify')));
  root.append(section(t('audit.verifyTitle'), verifyForm, verdict), section(t('audit.search'), searchForm, results));
  await search();
}

// --- Certificates ----------------------------------------------------------

export async function certificates(root, ctx) {
  const results = h('div.results', { 'data-testid': 'certificate-results' });
  const input = h('input', { name: 'q', required: true, 'aria-label': t('certs.query'), placeholder: t('certs.query') });
  const by = h('select', { name: 'by', 'aria-label': t('certs.by') }, h('option', { value: 'serial' }, t('certs.serial')), h('option', { value: 'cardNumber' }, t('certs.card')));
  const form = h('form.filters', {
    onsubmit: (event) => {
      event.preventDefault();
      api('GET', `/v1/operator/certificates${query({ [by.value]: input.value.trim() })}`)
        .then((list) =>
          results.replaceChildren(
            ...list.map((c) =>
              h('article.certificate', {},
                h('h3', {}, `${t(`certs.kind.${c.kind}`)} ${c.serial} `, h(`span.pill.state-${c.state}`, {}, t(`state.${c.state}`))),
                h('dl', {},
                  h('dt', {}, t('certs.card')), h('dd', {}, c.cardNumber),
                  h('dt', {}, t('certs.holderNumber')), h('dd', {}, c.holderNumber),
                  c.nationalId ? [h('dt', {}, t('certs.nationalId')), h('dd', { 'data-testid': 'national-id' }, c.nationalId)] : null,
                  h('dt', {}, 'notBefore'), h('dd', {}, time(c.notBefore)),
                  h('dt', {}, 'notAfter'), h('dd', {}, time(c.notAfter)),
                  c.revokedAt ? [h('dt', {}, t('certs.revokedAt')), h('dd', {}, `${time(c.revokedAt)} (${c.reason})`)] : null,
                  c.renewedFromSerial ? [h('dt', {}, t('certs.renewedFrom')), h('dd', {}, c.renewedFromSerial)] : null,
                ),
                table([t('audit.at'), t('certs.from'), t('certs.to'), t('certs.reason'), t('audit.actor')], c.history.map((e) => [time(e.at), e.from ?? '', e.to, e.reason ?? '', `${e.actorKind}${e.actorId ? ` ${e.actorId}` : ''}`])),
              ),
            ),
          ),
        )
        .catch((e) => results.replaceChildren(h('p.bad', {}, problemText(e))));
    },
  }, h('label', {}, t('certs.by'), by), h('label', {}, t('certs.query'), input), h('button', { type: 'submit' }, t('search')));
  root.append(section(t('certs.title'), form, results));
}
