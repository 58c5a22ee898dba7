import { checkMobileNumber } from './mobile-number';

describe('checkMobileNumber', () => {
  it.each([
    ['0912345678', '0912345678'],
    ['+886912345678', '0912345678'],
    ['0987654321', '0987654321'],
  ])('accepts %s as %s', (input, normalised) => {
    expect(checkMobileNumber(input)).toEqual({ allowed: true, mobileNumber: normalised });
  });

  it.each([
    ['', 'mobile-number-missing'],
    [' ', 'mobile-number-missing'],
    ['091234567', 'mobile-number-malformed'],
    ['09123456789', 'mobile-number-malformed'],
    ['0212345678', 'mobile-number-malformed'],
    ['0912-345-678', 'mobile-number-malformed'],
    ['+8860912345678', 'mobile-number-malformed'],
    ['886912345678', 'mobile-number-malformed'],
    ['０９１２３４５６７８', 'mobile-number-malformed'],
  ])('refuses %j with %s', (input, code) => {
    expect(checkMobileNumber(input)).toMatchObject({ allowed: false, code });
  });
});
