import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_REASON_CODES, REASON_CODES } from './reason-code';

const lifecycleDoc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'lifecycle.md'), 'utf8');

describe('reason codes', () => {
  it('are unique kebab-case strings with a category and a summary', () => {
    expect(new Set(ALL_REASON_CODES).size).toBe(ALL_REASON_CODES.length);
    for (const code of ALL_REASON_CODES) {
      expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(REASON_CODES[code].summary.length).toBeGreaterThan(0);
    }
  });

  it.each(ALL_REASON_CODES)('%s has a row in docs/lifecycle.md', (code) => {
    expect(lifecycleDoc).toContain(`| \`${code}\` | ${REASON_CODES[code].category} |`);
  });
});
