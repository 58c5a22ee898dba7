import { checkEightYearCap } from './eight-year-cap';

const at = (iso: string) => new Date(iso);

describe('checkEightYearCap', () => {
  const issuedAt = at('2024-02-29T02:00:00Z');
  it.each([
    ['one day before the cap', '2031-01-01T00:00:00Z', '2032-02-28T01:59:59Z', null],
    ['the last second of the cap', '2031-01-01T00:00:00Z', '2032-02-29T01:59:59Z', null],
    ['one second past the cap', '2031-01-01T00:00:00Z', '2032-02-29T02:00:00Z', 'exceeds-eight-year-cap'],
    ['one day past the cap', '2031-01-01T00:00:00Z', '2032-03-01T02:00:00Z', 'exceeds-eight-year-cap'],
    ['a one-second certificate at the last second', '2032-02-29T01:59:59Z', '2032-02-29T01:59:59Z', null],
    ['starting at the cap', '2032-02-29T02:00:00Z', '2032-02-29T02:00:00Z', 'card-lifetime-exhausted'],
    ['starting before the card', '2024-02-29T01:59:59Z', '2025-01-01T00:00:00Z', 'validity-before-card-issuance'],
    ['starting with the card', '2024-02-29T02:00:00Z', '2025-01-01T00:00:00Z', null],
    ['ending before it starts', '2025-01-01T00:00:01Z', '2025-01-01T00:00:00Z', 'validity-empty'],
    ['with milliseconds past the last second', '2031-01-01T00:00:00Z', '2032-02-29T01:59:59.999Z', null],
  ])('%s', (_label, notBefore, notAfter, code) => {
    const decision = checkEightYearCap(issuedAt, { notBefore: at(notBefore), notAfter: at(notAfter) });
    if (code === null) expect(decision.allowed).toBe(true);
    else expect(decision).toMatchObject({ allowed: false, code });
  });
});
