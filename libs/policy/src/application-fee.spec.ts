import { APPLICATION_FEE_NTD, checkApplicationFee } from './application-fee';

describe('checkApplicationFee (NT$250)', () => {
  it('accepts exactly NT$250', () => {
    expect(APPLICATION_FEE_NTD).toBe(250);
    expect(checkApplicationFee(250)).toEqual({ allowed: true });
  });

  it.each([
    [null, 'fee-not-paid'],
    [0, 'fee-not-paid'],
    [249, 'fee-amount-incorrect'],
    [251, 'fee-amount-incorrect'],
    [250.5, 'fee-amount-incorrect'],
    [-250, 'fee-amount-incorrect'],
    [Number.NaN, 'fee-amount-incorrect'],
  ])('%p refused with %s', (paid, code) => {
    expect(checkApplicationFee(paid)).toMatchObject({ allowed: false, code });
  });
});
