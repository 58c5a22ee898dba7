import { checkUserCode } from './user-code';

describe('checkUserCode (6-10 printable ASCII characters, case-sensitive)', () => {
  it.each(['abc123', 'Ab%@12', 'ABCDEFGHIJ', '!"#$%&\'()*', '~`{}|\\^_', 'aaaaaaa', '123456', 'a1@B2%c3'])('accepts %j', (code) => {
    expect(checkUserCode(code)).toEqual({ allowed: true });
  });

  it.each([
    ['', 'user-code-too-short'],
    ['abc12', 'user-code-too-short'],
    ['abcdefghijk', 'user-code-too-long'],
    ['abc 123', 'user-code-contains-space'],
    [' abc123', 'user-code-contains-space'],
    ['abc\t123', 'user-code-control-character'],
    ['abc\u007f123', 'user-code-control-character'],
    ['abc\n', 'user-code-control-character'],
    ['密碼abcd', 'user-code-non-ascii'],
    ['ａｂｃ１２３', 'user-code-non-ascii'],
    ['abcdé1', 'user-code-non-ascii'],
    ['abc\u00a0123', 'user-code-non-ascii'],
    ['😀😀😀', 'user-code-non-ascii'],
  ])('refuses %j with %s', (code, reason) => {
    const decision = checkUserCode(code);
    expect(decision).toMatchObject({ allowed: false, code: reason });
    // The user code is a secret: a refusal never echoes it.
    if (!decision.allowed && code.length > 3) expect(decision.detail).not.toContain(code);
  });
});
