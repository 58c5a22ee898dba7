import { checkEmailAddress } from './email-address';

describe('checkEmailAddress', () => {
  it.each([
    ['someone@example.com.tw', 'someone@example.com.tw'],
    ['Some.One+moica@Example.GOV.TW', 'Some.One+moica@example.gov.tw'],
    ['a@b.tw', 'a@b.tw'],
    ['o\'brien@mail-1.example.org', 'o\'brien@mail-1.example.org'],
  ])('accepts %s', (input, normalised) => {
    expect(checkEmailAddress(input)).toEqual({ allowed: true, email: normalised });
  });

  it.each([
    ['', 'email-missing'],
    ['  ', 'email-missing'],
    ['no-at-sign', 'email-malformed'],
    ['@example.com', 'email-malformed'],
    ['a@', 'email-malformed'],
    ['a@localhost', 'email-malformed'],
    ['a@example.123', 'email-malformed'],
    ['a@-example.com', 'email-malformed'],
    ['a@exa_mple.com', 'email-malformed'],
    ['a..b@example.com', 'email-malformed'],
    ['.a@example.com', 'email-malformed'],
    ['a b@example.com', 'email-malformed'],
    ['王@example.com', 'email-malformed'],
    ['a@例子.台灣', 'email-malformed'],
    [`${'a'.repeat(65)}@example.com`, 'email-malformed'],
    [`a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}.tw`, 'email-malformed'],
    ['a@b@example.com', 'email-malformed'],
  ])('refuses %j with %s', (input, code) => {
    expect(checkEmailAddress(input)).toMatchObject({ allowed: false, code });
  });
});
