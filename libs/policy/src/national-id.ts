/**
 * Taiwan ID numbers (身分證字號 / 統一證號), DOMAIN.md "National ID number":
 * one letter and nine digits; the first digit is 1 (male) or 2 (female) for a
 * national, 8 (male) or 9 (female) for a foreign resident's number issued from
 * 2021. Before 2021 residents had a letter, a second letter A-D and eight
 * digits; that form is recognised too, only to say it is not a national ID.
 * The number is personal data: never put it in a refusal detail.
 */
import { allow, refuse, type Decision } from './decision';

/** Whose number it is: a national's ID, a 2021+ resident number, or a pre-2021 resident number. */
export type IdNumberKind = 'national' | 'resident' | 'legacy-resident';

/** A well-formed ID number, uppercased. */
export interface IdNumber {
  readonly value: string;
  readonly kind: IdNumberKind;
  readonly sex: 'male' | 'female';
}

/** The letter values of DOMAIN.md (A10 ... Z33, I34, O35): not alphabetical after H. */
const LETTER_VALUES: Readonly<Record<string, number>> = {
  A: 10, B: 11, C: 12, D: 13, E: 14, F: 15, G: 16, H: 17, J: 18, K: 19, L: 20, M: 21, N: 22,
  P: 23, Q: 24, R: 25, S: 26, T: 27, U: 28, V: 29, X: 30, Y: 31, W: 32, Z: 33, I: 34, O: 35,
};

/**
 * The check of DOMAIN.md: with the letter value's digits x1 x2 and the digits
 * d1..d9, x1 + 9*x2 + 8*d1 + 7*d2 + ... + 2*d7 + d8 + d9 is divisible by 10.
 */
function checksumHolds(letter: string, digits: readonly number[]): boolean {
  const value = LETTER_VALUES[letter];
  const weights = [8, 7, 6, 5, 4, 3, 2, 1, 1];
  const sum = Math.floor(value / 10) + 9 * (value % 10) + digits.reduce((acc, d, i) => acc + weights[i] * d, 0);
  return sum % 10 === 0;
}

/**
 * Parses and validates an ID number (format, then checksum) and tells a
 * national ID from a resident number. Lower-case letters are accepted and
 * uppercased; nothing else is normalised (no trimming).
 */
export function parseIdNumber(input: string): Decision<{ idNumber: IdNumber }> {
  const value = input.toUpperCase();
  const modern = /^([A-Z])([1289])(\d{8})$/.exec(value);
  const legacy = /^([A-Z])([A-D])(\d{8})$/.exec(value);
  if (modern) {
    const digits = [...modern[2] + modern[3]].map(Number);
    if (!checksumHolds(modern[1], digits)) {
      return refuse('national-id-checksum-mismatch', 'The ID number fails its check digit.');
    }
    const first = digits[0];
    return allow({
      idNumber: {
        value,
        kind: first <= 2 ? 'national' : 'resident',
        sex: first === 1 || first === 8 ? 'male' : 'female',
      } satisfies IdNumber,
    });
  }
  if (legacy) {
    // Pre-2021 resident numbers: the second letter counts by the last digit of its value.
    const digits = [LETTER_VALUES[legacy[2]] % 10, ...[...legacy[3]].map(Number)];
    if (!checksumHolds(legacy[1], digits)) {
      return refuse('national-id-checksum-mismatch', 'The ID number fails its check digit.');
    }
    const sex = legacy[2] === 'A' || legacy[2] === 'C' ? 'male' : 'female';
    return allow({ idNumber: { value, kind: 'legacy-resident', sex } satisfies IdNumber });
  }
  return refuse(
    'national-id-malformed',
    'An ID number is one letter followed by nine digits, the first of them 1 or 2 for a national.',
  );
}

/** A valid national ID number (not a resident number): the applicant must be a national (CPS 1.3.3). */
export function checkNationalId(input: string): Decision<{ idNumber: IdNumber }> {
  const parsed = parseIdNumber(input);
  if (parsed.allowed && parsed.idNumber.kind !== 'national') {
    return refuse('not-a-national', 'This is a resident certificate number: the certificate is issued to nationals only.');
  }
  return parsed;
}
