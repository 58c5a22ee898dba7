// The operator console: sign in with an API token, then one view per tab
// (hash routes). Nothing here is privileged: the API decides what each role may do.
import { api, ApiProblem, signIn, signOut, token } from './api.js';
import { clear, h } from './dom.js';
import { LANGUAGES, language, setLanguage, t } from './i18n.js';
import * as views from './views.js';

const VIEWS = ['overview', 'crls', 'jobs', 'approvals', 'audit', 'certificates'];
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const status = document.getElementById('status');
let session = null;
// Each render has a number: a slow view that finishes after the user moved on is dropped.
let generation = 0;

function notify(message, kind = 'ok') {
  status.replaceChildren(h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, message));
}

function currentView() {
  const name = location.hash.replace(/^#/, '');
  return VIEWS.includes(name) ? name : 'overview';
}

function renderChrome() {
  document.title = t('app.title');
  document.getElementById('title').textContent = t('app.title');
  const picker = document.getElementById('language');
  picker.replaceChildren(...LANGUAGES.map((l) => h('option', { value: l.code, selected: l.code === language() }, l.label)));
  picker.setAttribute('aria-label', t('language'));
  clear(nav);
  clear(who);
  if (!session) return;
  const active = currentView();
  nav.append(...VIEWS.map((name) => h('a', { href: `#${name}`, 'aria-current': name === active ? 'page' : undefined, 'data-testid': `nav-${name}` }, t(`nav.${name}`))));
  who.append(
    h('span', { 'data-testid': 'who' }, `${session.name} (${t(`role.${session.role}`)})`),
    h('button', { type: 'button', onclick: () => render() }, t('refresh')),
    h('button', { type: 'button', 'data-testid': 'logout', onclick: () => (signOut(), (session = null), render()) }, t('logout')),
  );
}

function renderLogin(message) {
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, 'aria-label': t('login.token'), 'data-testid': 'token' });
  main.replaceChildren(
    h('form.card.login', {
      'data-testid': 'login',
      onsubmit: async (event) => {
        event.preventDefault();
        signIn(input.value);
        await render();
      },
    },
    h('h2', {}, t('login.title')),
    h('p.quiet', {}, t('login.help')),
    h('label', {}, t('login.token'), input),
    message ? h('p.bad', { role: 'alert' }, message) : null,
    h('button', { type: 'submit' }, t('login.submit'))),
  );
}

async function render() {
  const mine = ++generation;
  const stale = () => mine !== generation;
  status.replaceChildren();
  if (!token()) {
    session = null;
    renderChrome();
    renderLogin();
    return;
  }
  try {
    session ??= await api('GET', '/v1/operator/session');
  } catch (error) {
    if (stale()) return;
    signOut();
    session = null;
    renderChrome();
    renderLogin(error instanceof ApiProblem && error.status === 403 ? t('login.wrongRole') : views.problemText(error));
    return;
  }
  if (stale()) return;
  renderChrome();
  const name = currentView();
  const root = h('div.view', { 'data-view': name });
  main.replaceChildren(h('p.quiet', {}, t('loading')));
  try {
    await views[name](root, { session, notify, rerender: () => render().then(() => undefined) });
    if (stale()) return;
    main.replaceChildren(root);
  } catch (error) {
    if (stale()) return;
    main.replaceChildren(h('p.bad', { role: 'alert' }, views.problemText(error)));
    if (error instanceof ApiProblem && error.status === 401) {
      signOut();
      session = null;
      renderChrome();
      renderLogin(views.problemText(error));
    }
  }
}

document.getElementById('language').addEventListener('change', (event) => {
  setLanguage(event.target.value);
  void render();
});
window.addEventListener('hashchange', () => void render());
setLanguage(language());
void render();
