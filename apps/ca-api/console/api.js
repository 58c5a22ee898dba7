// The console calls the same /v1 API as every other client, with the signed-in
// staff member's bearer token: the server authorises and audits each call.
// The token lives in sessionStorage (this tab only, gone when it closes).

const TOKEN_KEY = 'moica-console-token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An RFC 9457 problem answered by the API. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
  get code() {
    return String(this.problem.type ?? '').replace('urn:moica-ca:problem:', '');
  }
}

async function request(method, path, body) {
  const headers = { accept: 'application/json, application/problem+json' };
  const current = token();
  if (current) headers.authorization = `Bearer ${current}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Writes are idempotent by key (docs/api.md): one key per click.
  if (method !== 'GET') headers['idempotency-key'] = crypto.randomUUID();
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** JSON of a /v1 call; an ApiProblem for a 4xx/5xx answer. */
export async function api(method, path, body) {
  const response = await request(method, path, body);
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok) throw new ApiProblem(response.status, parsed);
  return parsed;
}

/** Saves a binary answer (a CRL's DER) as a file, through the same authorised call. */
export async function download(path, fileName) {
  const response = await request('GET', path);
  if (!response.ok) throw new ApiProblem(response.status, await response.json().catch(() => undefined));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Query string from the non-empty values of an object. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
