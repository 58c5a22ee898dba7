/**
 * The user code (用戶代碼), DOMAIN.md and leaflet: 6 to 10 characters,
 * letters (case-sensitive), digits and special characters such as % or @.
 * Read strictly: printable ASCII without the space (U+0021 to U+007E), so that
 * it can be typed on any keyboard and by the card middleware; spaces are
 * refused because they are invisible and often trimmed by forms. Length is
 * counted in characters (code points). The code is never stored recoverably;
 * that is the apps' concern (hashing is I/O).
 */
import { allow, refuse, type Decision } from './decision';

/** Shortest user code. */
export const USER_CODE_MIN_LENGTH = 6;
/** Longest user code. */
export const USER_CODE_MAX_LENGTH = 10;

/** Checks a user code: character classes first, then length. */
export function checkUserCode(userCode: string): Decision {
  const characters = [...userCode];
  for (const character of characters) {
    const codePoint = character.codePointAt(0) as number;
    if (codePoint === 0x20) return refuse('user-code-contains-space', 'The user code must not contain spaces.');
    if (codePoint < 0x20 || codePoint === 0x7f) {
      return refuse('user-code-control-character', 'The user code must not contain control characters.');
    }
    if (codePoint > 0x7f) {
      return refuse(
        'user-code-non-ascii',
        'The user code may contain only English letters, digits and keyboard symbols such as % or @.',
      );
    }
  }
  if (characters.length < USER_CODE_MIN_LENGTH) {
    return refuse('user-code-too-short', `The user code needs at least ${USER_CODE_MIN_LENGTH} characters.`);
  }
  if (characters.length > USER_CODE_MAX_LENGTH) {
    return refuse('user-code-too-long', `The user code has at most ${USER_CODE_MAX_LENGTH} characters.`);
  }
  return allow();
}
