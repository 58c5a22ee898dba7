import { newCertificateValidity } from './certificate-validity';

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

describe('newCertificateValidity (5 years, notAfter inclusive)', () => {
  it.each([
    ['2021-06-15T01:30:00Z', '2021-06-15T01:30:00Z', '2026-06-15T01:29:59Z'],
    ['2021-06-15T01:30:00.750Z', '2021-06-15T01:30:00Z', '2026-06-15T01:29:59Z'],
    // Leap day: ends on 28 February, one day short rather than one day long.
    ['2024-02-29T02:00:00Z', '2024-02-29T02:00:00Z', '2029-02-28T01:59:59Z'],
    // Taiwan midnight of 1 January.
    ['2025-12-31T16:00:00Z', '2025-12-31T16:00:00Z', '2030-12-31T15:59:59Z'],
  ])('issued %s: %s .. %s', (issuedAt, notBefore, notAfter) => {
    const decision = newCertificateValidity(at(issuedAt));
    expect(decision.allowed && { notBefore: iso(decision.validity.notBefore), notAfter: iso(decision.validity.notAfter) }).toEqual({
      notBefore,
      notAfter,
    });
  });
});
