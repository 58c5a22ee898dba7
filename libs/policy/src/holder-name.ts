/**
 * The holder's name (DOMAIN.md: required data). It becomes the subject CN,
 * whose upper bound is 64 characters (RFC 5280 Appendix A, ub-common-name).
 * Names may be in Chinese characters or, for indigenous names, in Latin
 * letters with spaces and middle dots: any printable character is accepted.
 */
import { allow, refuse, type Decision } from './decision';

/** RFC 5280 ub-common-name. */
export const MAX_NAME_LENGTH = 64;

/** Checks that a name is present and fits a certificate subject CN. */
export function checkHolderName(name: string): Decision<{ name: string }> {
  if (name.trim() === '') return refuse('name-missing', 'The name is required.');
  if (name !== name.trim()) return refuse('name-malformed', 'The name must not start or end with spaces.');
  if (/\p{Cc}/u.test(name)) return refuse('name-malformed', 'The name must not contain control characters.');
  if ([...name].length > MAX_NAME_LENGTH) {
    return refuse('name-malformed', `The name must be at most ${MAX_NAME_LENGTH} characters.`);
  }
  return allow({ name: name.normalize('NFC') });
}
