/**
 * The card fee (DOMAIN.md, leaflet: IC卡工本費250元), paid at the counter and
 * recorded with the application. An amount is in whole New Taiwan dollars.
 */
import { allow, refuse, type Decision } from './decision';

/** NT$250: the card fee for a new application. */
export const APPLICATION_FEE_NTD = 250;

/** Checks the fee recorded with an application: exactly NT$250. `null` means not paid. */
export function checkApplicationFee(paidNtd: number | null): Decision {
  if (paidNtd === null || paidNtd === 0) {
    return refuse('fee-not-paid', `The NT$${APPLICATION_FEE_NTD} card fee must be paid at the counter.`);
  }
  if (paidNtd !== APPLICATION_FEE_NTD) {
    return refuse('fee-amount-incorrect', `The card fee is exactly NT$${APPLICATION_FEE_NTD}.`);
  }
  return allow();
}
