import * as policy from './index';

describe('the libs/policy barrel', () => {
  it.each([
    'checkApplication', 'applicationRefusals', 'checkApplicantAge', 'parseIdNumber', 'checkNationalId', 'checkUserCode',
    'defaultPin', 'checkApplicationFee', 'checkHolderName', 'checkMobileNumber', 'checkEmailAddress', 'ageOn',
    'channelPermits', 'revocationReasonForHouseholdEvent', 'revocationReasonPermitted', 'cardLifetime', 'checkEightYearCap',
    'newCertificateValidity', 'effectiveState', 'decideTransition', 'decideRenewal', 'renewalWindow',
    'decideOnlineReissuance', 'reissuanceWindow', 'decideHolderService', 'emailCertificateValidity', 'noticeSchedule',
    'noticesDue', 'revocationStatus', 'taiwanCalendarDate', 'addTaiwanYears', 'allow', 'refuse', 'isRefusal',
  ])('exports %s', (name) => {
    expect(typeof (policy as Record<string, unknown>)[name]).toBe('function');
  });

  it('tells refusals from allowed decisions', () => {
    expect(policy.isRefusal(policy.refuse('under-age', 'too young'))).toBe(true);
    expect(policy.isRefusal(policy.allow({ age: 18 }))).toBe(false);
    expect(policy.allow()).toEqual({ allowed: true });
  });
});
