import { checkNationalId, parseIdNumber } from './national-id';

describe('parseIdNumber', () => {
  it.each([
    ['A123456789', 'national', 'male'],
    ['F222222222', 'national', 'female'],
    ['Z187654324', 'national', 'male'],
    ['I200000005', 'national', 'female'],
    ['O100000004', 'national', 'male'],
    ['W121212127', 'national', 'male'],
    ['a123456789', 'national', 'male'],
    ['A800000014', 'resident', 'male'],
    ['B912345674', 'resident', 'female'],
    // Published test vectors (national, 2021+ resident, pre-2021 resident numbers).
    ['F131104093', 'national', 'male'],
    ['O158238845', 'national', 'male'],
    ['N116247806', 'national', 'male'],
    ['L122544270', 'national', 'male'],
    ['C180661564', 'national', 'male'],
    ['Y123456788', 'national', 'male'],
    ['A900207177', 'resident', 'female'],
    ['T900251126', 'resident', 'female'],
    ['H802717288', 'resident', 'male'],
    ['AA00000009', 'legacy-resident', 'male'],
    ['AB00207171', 'legacy-resident', 'female'],
    ['AC03095424', 'legacy-resident', 'male'],
    ['BD01300667', 'legacy-resident', 'female'],
    ['TD00251124', 'legacy-resident', 'female'],
    ['AD30196818', 'legacy-resident', 'female'],
    ['AC01234567', 'legacy-resident', 'male'],
    ['BD12345672', 'legacy-resident', 'female'],
  ])('%s is a valid %s number (%s)', (input, kind, sex) => {
    expect(parseIdNumber(input)).toEqual({ allowed: true, idNumber: { value: input.toUpperCase(), kind, sex } });
  });

  it.each(['A123456788', 'F222222221', 'A800000015', 'AC01234568', 'F131104091', 'A800000000', 'AA00000000'])('%s fails the checksum', (input) => {
    expect(parseIdNumber(input)).toMatchObject({ allowed: false, code: 'national-id-checksum-mismatch' });
  });

  it.each(['', 'A12345678', 'A1234567890', '1123456789', 'A323456789', 'A723456789', 'AE12345678', ' A123456789', 'A12345678X', 'Ａ123456789'])(
    '%j is malformed',
    (input) => {
      expect(parseIdNumber(input)).toMatchObject({ allowed: false, code: 'national-id-malformed' });
    },
  );

  it('never repeats the number in a refusal', () => {
    const refusal = parseIdNumber('A123456788');
    expect(JSON.stringify(refusal)).not.toContain('A123456788');
  });
});

describe('checkNationalId', () => {
  it.each([
    ['A123456789', true, undefined],
    ['A800000014', false, 'not-a-national'],
    ['AC01234567', false, 'not-a-national'],
    ['A123456788', false, 'national-id-checksum-mismatch'],
  ])('%s -> allowed %s %s', (input, allowed, code) => {
    const decision = checkNationalId(input);
    expect(decision.allowed).toBe(allowed);
    if (!decision.allowed) expect(decision.code).toBe(code);
  });
});
