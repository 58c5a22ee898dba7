import type { Channel } from '@moica/policy';

/** DOMAIN.md 委託代辦: at the counter, the holder in person, or a delegate with or without the holder's card. */
export function counterChannel(delegation?: { holderCardPresented: boolean }): Channel {
  if (!delegation) return 'holder-in-person';
  return delegation.holderCardPresented ? 'delegate-with-card' : 'delegate-without-card';
}
