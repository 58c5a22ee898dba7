/**
 * DOMAIN.md: the national ID number is personal data, kept out of logs and
 * URLs. This finds anything shaped like one (a letter and 9 digits, whether
 * a citizen's [A-Z][12], a 2021+ resident's [A-Z][89] or an older resident's
 * [A-Z][A-D]) and masks it, so a careless log call cannot leak one.
 */
const NATIONAL_ID_LIKE = /(?<![A-Za-z0-9])[A-Za-z][1289A-Da-d]\d{8}(?![0-9])/g;

export function maskNationalIds(text: string): string {
  return text.replace(NATIONAL_ID_LIKE, '[national-id]');
}

/** Keys whose values never reach a log line, whatever they hold. */
export const SECRET_KEYS = new Set([
  'nationalid',
  'national_id',
  'delegatenationalid',
  'usercode',
  'user_code',
  'newusercode',
  'password',
  'passphrase',
  'pin',
  'authorization',
  'cookie',
  'token',
  'secret',
]);

/** A copy of `value` with secret keys redacted and national-ID-shaped strings masked. */
export function scrubPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskNationalIds(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskNationalIds(value.message), stack: value.stack && maskNationalIds(value.stack) };
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((item) => scrubPersonalData(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? '[redacted]' : scrubPersonalData(item, depth + 1);
  }
  return out;
}
