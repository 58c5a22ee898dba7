import { applicationRefusals, checkApplicantAge, checkApplication, type ApplicationRequest } from './application';

const request: ApplicationRequest = {
  idNumber: 'a123456789',
  dateOfBirth: { year: 2008, month: 2, day: 29 },
  name: '王小明',
  mobileNumber: '+886912345678',
  email: 'wang@Example.com.tw',
  hasHouseholdRegistration: true,
  underGuardianship: false,
  userCode: 'Ab%@1234',
  feePaidNtd: 250,
};
// Born 2008-02-29: 18 from Taiwan day 2026-03-01, which starts at 2026-02-28T16:00:00Z.
const eighteenth = new Date('2026-02-28T16:00:00Z');
const at = (iso: string) => new Date(iso);

describe('checkApplicantAge (Taiwan day of application)', () => {
  it.each([
    ['one day before', '2026-02-27T16:00:00Z', false],
    ['one second before (Taiwan 2026-02-28 23:59:59)', '2026-02-28T15:59:59Z', false],
    ['at Taiwan midnight of 1 March', '2026-02-28T16:00:00Z', true],
    ['one second after', '2026-02-28T16:00:01Z', true],
    ['one day after', '2026-03-01T16:00:00Z', true],
  ])('leap-day birth, %s: allowed %s', (_label, now, allowed) => {
    expect(checkApplicantAge(request.dateOfBirth, at(now)).allowed).toBe(allowed);
  });

  it.each([
    ['one second before Taiwan 2030-03-01', '2030-02-28T15:59:59Z', false],
    ['at Taiwan midnight of 2030-03-01', '2030-02-28T16:00:00Z', true],
  ])('born 2012-02-29 (18 is never reached on a leap day: 18 is not a multiple of 4), %s', (_label, now, allowed) => {
    expect(checkApplicantAge({ year: 2012, month: 2, day: 29 }, at(now)).allowed).toBe(allowed);
  });

  it.each([
    ['one second before', '2026-07-03T15:59:59Z', false],
    ['Taiwan midnight of the birthday', '2026-07-03T16:00:00Z', true],
  ])('born 2008-07-04, %s', (_label, now, allowed) => {
    expect(checkApplicantAge({ year: 2008, month: 7, day: 4 }, at(now)).allowed).toBe(allowed);
  });

  it('reports the completed age', () => {
    expect(checkApplicantAge({ year: 1990, month: 7, day: 4 }, eighteenth)).toEqual({ allowed: true, age: 35 });
  });

  it.each([
    [{ year: 2026, month: 3, day: 2 }],
    [{ year: 2007, month: 2, day: 29 }],
  ])('refuses a date of birth that is not a real past date: %o', (dateOfBirth) => {
    expect(checkApplicantAge(dateOfBirth, eighteenth)).toMatchObject({ allowed: false, code: 'date-of-birth-invalid' });
  });
});

describe('checkApplication', () => {
  it('accepts an eligible application and normalises its data', () => {
    expect(checkApplication(request, eighteenth)).toEqual({
      allowed: true,
      application: {
        idNumber: 'A123456789',
        name: '王小明',
        mobileNumber: '0912345678',
        email: 'wang@example.com.tw',
        dateOfBirth: { year: 2008, month: 2, day: 29 },
        defaultPin: '970229',
      },
    });
  });

  it.each<[string, Partial<ApplicationRequest>]>([
    ['national-id-malformed', { idNumber: 'A12345678' }],
    ['national-id-checksum-mismatch', { idNumber: 'A123456788' }],
    ['not-a-national', { idNumber: 'A800000014' }],
    ['date-of-birth-invalid', { dateOfBirth: { year: 2007, month: 2, day: 29 } }],
    ['under-age', { dateOfBirth: { year: 2008, month: 3, day: 2 } }],
    ['no-household-registration', { hasHouseholdRegistration: false }],
    ['under-guardianship', { underGuardianship: true }],
    ['name-missing', { name: '' }],
    ['name-malformed', { name: '王\t小明' }],
    ['mobile-number-missing', { mobileNumber: '' }],
    ['mobile-number-malformed', { mobileNumber: '0212345678' }],
    ['email-missing', { email: '' }],
    ['email-malformed', { email: 'wang@' }],
    ['date-of-birth-before-roc-era', { dateOfBirth: { year: 1911, month: 5, day: 1 } }],
    ['user-code-too-short', { userCode: 'abc' }],
    ['user-code-non-ascii', { userCode: '密碼密碼密碼' }],
    ['fee-not-paid', { feePaidNtd: null }],
    ['fee-amount-incorrect', { feePaidNtd: 200 }],
  ])('refuses with %s', (code, change) => {
    const decision = checkApplication({ ...request, ...change }, eighteenth);
    expect(decision).toMatchObject({ allowed: false, code });
    expect(applicationRefusals({ ...request, ...change }, eighteenth).map((r) => r.code)).toEqual([code]);
  });

  it('lists every refusal in a fixed order, an invalid date of birth once', () => {
    const refusals = applicationRefusals(
      {
        idNumber: 'A800000014',
        dateOfBirth: { year: 2007, month: 2, day: 29 },
        name: '',
        mobileNumber: '12',
        email: 'x',
        hasHouseholdRegistration: false,
        underGuardianship: true,
        userCode: 'a b',
        feePaidNtd: null,
      },
      eighteenth,
    );
    expect(refusals.map((r) => r.code)).toEqual([
      'not-a-national',
      'date-of-birth-invalid',
      'no-household-registration',
      'under-guardianship',
      'name-missing',
      'mobile-number-malformed',
      'email-malformed',
      'user-code-contains-space',
      'fee-not-paid',
    ]);
  });
});
