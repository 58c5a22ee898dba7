import { ALL_CHANNELS, ALL_OPERATIONS, channelPermits, type Channel, type Operation } from './delegation';

// DOMAIN.md "What may be done by a delegate", column by column:
// in person | delegate with card | delegate without card | online user code | online card signature | operator | court order | household event
const ok = 'allowed';
const DNP = 'delegate-not-permitted';
const HCR = 'holder-card-required';
const NAO = 'not-available-online';
const CSR = 'card-signature-required';
const UCR = 'user-code-required';
const ONL = 'online-only';
const CNP = 'channel-not-permitted';
const EXPECTED: Record<Operation, string[]> = {
  application: [ok, DNP, DNP, NAO, NAO, CNP, CNP, CNP],
  revocation: [ok, DNP, DNP, NAO, NAO, ok, CNP, ok],
  'user-code-reset': [ok, ok, HCR, CSR, ok, CNP, CNP, CNP],
  renewal: [ok, ok, HCR, CSR, ok, CNP, CNP, CNP],
  suspension: [ok, ok, ok, ok, UCR, CNP, ok, CNP],
  resumption: [ok, ok, ok, ok, UCR, CNP, ok, CNP],
  'change-mobile-number': [ok, ok, HCR, NAO, NAO, CNP, CNP, CNP],
  'change-publication-status': [ok, ok, HCR, NAO, NAO, CNP, CNP, CNP],
  'change-contact-email': [ok, ok, HCR, NAO, NAO, CNP, CNP, CNP],
  'add-email-to-certificate': [ONL, ONL, ONL, CSR, ok, CNP, CNP, CNP],
  activation: [ONL, ONL, ONL, CSR, ok, CNP, CNP, CNP],
  'online-reissuance': [ONL, ONL, ONL, CSR, ok, CNP, CNP, CNP],
};

const rows: [Operation, Channel, string][] = ALL_OPERATIONS.flatMap((operation) =>
  ALL_CHANNELS.map((channel, column): [Operation, Channel, string] => [operation, channel, EXPECTED[operation][column]]),
);

describe('channelPermits (the delegation table)', () => {
  it('covers every operation and channel', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...ALL_OPERATIONS].sort());
    expect(rows).toHaveLength(12 * 8);
  });

  it.each(rows)('%s via %s: %s', (operation, channel, expected) => {
    const decision = channelPermits(operation, channel);
    expect(decision.allowed ? ok : decision.code).toBe(expected);
    if (!decision.allowed) expect(decision.detail.length).toBeGreaterThan(0);
  });
});
