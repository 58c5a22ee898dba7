/**
 * Taiwan mobile numbers (DOMAIN.md: verification codes go by SMS to the
 * mobile number). Mobile numbers are 09 followed by 8 digits; the
 * international form +886 drops the leading 0. No separators are accepted:
 * the front end strips them. The normalised form is the national 09xxxxxxxx.
 */
import { allow, refuse, type Decision } from './decision';

/** Checks a Taiwan mobile number and returns it as 09xxxxxxxx. */
export function checkMobileNumber(input: string): Decision<{ mobileNumber: string }> {
  if (input.trim() === '') return refuse('mobile-number-missing', 'The mobile number is required.');
  const match = /^(?:0|\+886)(9\d{8})$/.exec(input);
  if (!match) {
    return refuse('mobile-number-malformed', 'A Taiwan mobile number is 09 followed by 8 digits (or +886 9 followed by 8 digits).');
  }
  return allow({ mobileNumber: `0${match[1]}` });
}
