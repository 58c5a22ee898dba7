/**
 * Who may do what, and through which channel: the delegation table of
 * DOMAIN.md "What may be done by a delegate (委託代辦)" and the leaflet
 * (可以委託辦理事項, 注意事項 一 and 二), plus the three non-holder channels
 * (operator, court order, household-registration event).
 */
import { allow, refuse, type Decision } from './decision';

/** An operation on a card or certificate. */
export type Operation =
  | 'application'
  | 'revocation'
  | 'user-code-reset'
  | 'renewal'
  | 'suspension'
  | 'resumption'
  | 'change-mobile-number'
  | 'change-publication-status'
  | 'change-contact-email'
  | 'add-email-to-certificate'
  /** Online activation (開卡) of a card produced by online re-issuance. */
  | 'activation'
  /** Online re-issuance (線上換發) application. */
  | 'online-reissuance';

/** How a request reaches the CA, and who stands behind it. */
export type Channel =
  /** The holder at a registration office, ID card checked by a clerk. */
  | 'holder-in-person'
  /** A delegate at a registration office with the form, both ID cards and the holder's card. */
  | 'delegate-with-card'
  /** A delegate at a registration office without the holder's card. */
  | 'delegate-without-card'
  /** The holder online, authenticated by the user code. */
  | 'online-user-code'
  /** The holder online, authenticated by a signature of the card's key. */
  | 'online-card-signature'
  /** A CA operator. */
  | 'operator'
  /** A court or prosecutor's order (suspension, DOMAIN.md). */
  | 'court-order'
  /** An event reported by the household-registration system (automatic revocation). */
  | 'household-registration-event';

/** All operations, in table order. */
export const ALL_OPERATIONS: readonly Operation[] = [
  'application', 'revocation', 'user-code-reset', 'renewal', 'suspension', 'resumption',
  'change-mobile-number', 'change-publication-status', 'change-contact-email',
  'add-email-to-certificate', 'activation', 'online-reissuance',
];

/** All channels. */
export const ALL_CHANNELS: readonly Channel[] = [
  'holder-in-person', 'delegate-with-card', 'delegate-without-card', 'online-user-code',
  'online-card-signature', 'operator', 'court-order', 'household-registration-event',
];

const IN_PERSON_WITH_CARD: readonly Channel[] = ['holder-in-person', 'delegate-with-card'];

/**
 * The table. Operator revocation is limited to CA compromise and the
 * household-registration channel to its event reasons (revocation-reason.ts).
 * A court may order a suspension and lift it (resumption).
 */
export const DELEGATION_TABLE: Readonly<Record<Operation, readonly Channel[]>> = {
  application: ['holder-in-person'],
  revocation: ['holder-in-person', 'operator', 'household-registration-event'],
  'user-code-reset': [...IN_PERSON_WITH_CARD, 'online-card-signature'],
  renewal: [...IN_PERSON_WITH_CARD, 'online-card-signature'],
  suspension: [...IN_PERSON_WITH_CARD, 'delegate-without-card', 'online-user-code', 'court-order'],
  resumption: [...IN_PERSON_WITH_CARD, 'delegate-without-card', 'online-user-code', 'court-order'],
  'change-mobile-number': IN_PERSON_WITH_CARD,
  'change-publication-status': IN_PERSON_WITH_CARD,
  'change-contact-email': IN_PERSON_WITH_CARD,
  'add-email-to-certificate': ['online-card-signature'],
  activation: ['online-card-signature'],
  'online-reissuance': ['online-card-signature'],
};

const isOnline = (channel: Channel) => channel === 'online-user-code' || channel === 'online-card-signature';
const isDelegate = (channel: Channel) => channel === 'delegate-with-card' || channel === 'delegate-without-card';

/** Decides whether `channel` may carry out `operation` (DOMAIN.md delegation table). */
export function channelPermits(operation: Operation, channel: Channel): Decision {
  const permitted = DELEGATION_TABLE[operation];
  if (permitted.includes(channel)) return allow();
  const onlineOnly = permitted.every(isOnline);
  if (isDelegate(channel)) {
    if (operation === 'application' || operation === 'revocation') {
      return refuse('delegate-not-permitted', `${operation} cannot be delegated: the holder must come in person.`);
    }
    if (!onlineOnly) {
      return refuse('holder-card-required', `A delegate must bring the holder's card for ${operation}.`);
    }
  }
  if (onlineOnly && (channel === 'holder-in-person' || isDelegate(channel))) {
    return refuse('online-only', `${operation} is done online only.`);
  }
  if (channel === 'online-user-code' && permitted.includes('online-card-signature')) {
    return refuse('card-signature-required', `Online, ${operation} needs a signature of the card's key.`);
  }
  if (channel === 'online-card-signature' && permitted.includes('online-user-code')) {
    return refuse('user-code-required', `Online, ${operation} needs the user code.`);
  }
  if (isOnline(channel)) {
    return refuse('not-available-online', `${operation} is done at a registration office.`);
  }
  return refuse('channel-not-permitted', `${channel} may not request ${operation}.`);
}
