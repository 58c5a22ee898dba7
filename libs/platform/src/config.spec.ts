import { ConfigurationError, loadConfig } from './config';
import { FakeClock } from './clock';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const valid = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/ca',
  PII_ENCRYPTION_KEY: KEY_A,
  PII_HMAC_KEY: KEY_B,
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('accepts a minimal environment and fills the defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({ NODE_ENV: 'development', CA_API_PORT: 3000, OCSP_PORT: 3001, LOG_LEVEL: 'info' });
    expect(config.piiEncryptionKey).toHaveLength(32);
  });

  it.each([
    [{ DATABASE_URL: undefined }, /DATABASE_URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ CA_API_PORT: '70000' }, /CA_API_PORT/],
    [{ CA_API_PORT: 'abc' }, /CA_API_PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV/],
    [{ PII_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, /PII_ENCRYPTION_KEY must decode to exactly 32 bytes/],
    [{ PII_HMAC_KEY: KEY_A }, /PII_HMAC_KEY must differ/],
    [{ PII_HMAC_KEY: undefined }, /PII_HMAC_KEY/],
    [{ SOFTWARE_KEY_PASSPHRASE: 'short' }, /SOFTWARE_KEY_PASSPHRASE must have at least 8 characters/],
    [{ FAKE_CLOCK: 'tomorrow' }, /FAKE_CLOCK must be an ISO 8601 instant/],
    [{ FAKE_CLOCK: '2031-01-15T00:00:00Z', NODE_ENV: 'production' }, /FAKE_CLOCK is refused when NODE_ENV=production/],
    [{ PUBLIC_BASE_URL: 'not a url' }, /PUBLIC_BASE_URL/],
    [{ ECPAY_HASH_KEY: 'short' }, /ECPAY_HASH_KEY must be the 16-character ECPay HashKey/],
    [{ ECPAY_MERCHANT_ID: 'abc' }, /ECPAY_MERCHANT_ID/],
    [{ REISSUANCE_HOLIDAYS: '2034-02-28;2034-04-04' }, /REISSUANCE_HOLIDAYS must be YYYY-MM-DD dates/],
  ])('refuses %p, naming the variable', (override, message) => {
    const problems = problemsOf({ ...valid, ...override });
    expect(problems.join('\n')).toMatch(message);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({}).length).toBeGreaterThanOrEqual(3);
  });

  it('gives a fixed or offset fake clock outside production', () => {
    const fixed = loadConfig({ ...valid, FAKE_CLOCK: '2031-01-15T00:00:00Z' }).clock;
    expect(fixed).toBeInstanceOf(FakeClock);
    expect(fixed.now().toISOString()).toBe('2031-01-15T00:00:00.000Z');
    const offset = new FakeClock({ offsetMs: 86_400_000 }, () => 0);
    expect(offset.now().toISOString()).toBe('1970-01-02T00:00:00.000Z');
    expect(loadConfig({ ...valid, FAKE_CLOCK: '+30d' }).clock).toBeInstanceOf(FakeClock);
  });
});

describe('loadConfig from string variables', () => {
  it('converts numeric variables as the environment gives them (strings)', () => {
    const config = loadConfig({ ...valid, CA_API_PORT: '3400', OCSP_PORT: '3401' });
    expect(config.CA_API_PORT).toBe(3400);
    expect(config.OCSP_PORT).toBe(3401);
  });
});
