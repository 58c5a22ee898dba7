/**
 * A new application at the counter (DOMAIN.md "Eligibility and application";
 * leaflet 用戶約定條款: a national, 18 or older, with a household
 * registration and not under guardianship). The RA attests the facts; the CA
 * re-checks all of them, and the age from the date of birth, on the Taiwan
 * calendar day of `now`.
 */
import { ageOn, MINIMUM_APPLICANT_AGE } from './age';
import { checkApplicationFee } from './application-fee';
import { allow, refuse, type Decision, type Refusal } from './decision';
import { defaultPin } from './default-pin';
import { checkEmailAddress } from './email-address';
import { checkHolderName } from './holder-name';
import { checkMobileNumber } from './mobile-number';
import { checkNationalId } from './national-id';
import { compareCalendarDates, isValidCalendarDate, taiwanCalendarDate, type CalendarDate } from './taiwan-time';
import { checkUserCode } from './user-code';

/** What the registration office submits for a new application. */
export interface ApplicationRequest {
  readonly idNumber: string;
  readonly dateOfBirth: CalendarDate;
  readonly name: string;
  readonly mobileNumber: string;
  readonly email: string;
  /** Attested by the RA: the applicant has a household registration (設有戶籍). */
  readonly hasHouseholdRegistration: boolean;
  /** Attested by the RA: the applicant is under guardianship (受監護宣告). */
  readonly underGuardianship: boolean;
  readonly userCode: string;
  /** Fee recorded at the counter, NT$; null when none. */
  readonly feePaidNtd: number | null;
}

/** The normalised data of an accepted application. */
export interface AcceptedApplication {
  readonly idNumber: string;
  readonly name: string;
  readonly mobileNumber: string;
  readonly email: string;
  readonly dateOfBirth: CalendarDate;
  readonly defaultPin: string;
}

/** Checks age on the Taiwan day of `now`; leap-day births: see age.ts. */
export function checkApplicantAge(dateOfBirth: CalendarDate, now: Date): Decision<{ age: number }> {
  const today = taiwanCalendarDate(now);
  if (!isValidCalendarDate(dateOfBirth) || compareCalendarDates(dateOfBirth, today) > 0) {
    return refuse('date-of-birth-invalid', 'The date of birth is not a real date up to today.');
  }
  const age = ageOn(dateOfBirth, today);
  if (age < MINIMUM_APPLICANT_AGE) {
    return refuse('under-age', `The applicant must be ${MINIMUM_APPLICANT_AGE} or older on the day of application.`);
  }
  return allow({ age });
}

function evaluate(request: ApplicationRequest, now: Date) {
  return {
    id: checkNationalId(request.idNumber),
    age: checkApplicantAge(request.dateOfBirth, now),
    household: request.hasHouseholdRegistration
      ? allow()
      : refuse('no-household-registration', 'The applicant must have a household registration in Taiwan.'),
    guardianship: request.underGuardianship
      ? refuse('under-guardianship', 'A person under guardianship cannot apply.')
      : allow(),
    name: checkHolderName(request.name),
    mobile: checkMobileNumber(request.mobileNumber),
    email: checkEmailAddress(request.email),
    pin: defaultPin(request.dateOfBirth),
    userCode: checkUserCode(request.userCode),
    fee: checkApplicationFee(request.feePaidNtd),
  };
}

function refusalsOf(decisions: ReturnType<typeof evaluate>): Refusal[] {
  const refusals = Object.values(decisions).filter((decision): decision is Refusal => !decision.allowed);
  // An invalid date of birth is reported once (by the age check, before the PIN).
  return refusals.filter((refusal, index) => refusals.findIndex((other) => other.code === refusal.code) === index);
}

/**
 * Every refusal of an application, in a fixed order (identity, age, attested
 * facts, contact data, default PIN, user code, fee), so that a form can show them all.
 */
export function applicationRefusals(request: ApplicationRequest, now: Date): Refusal[] {
  return refusalsOf(evaluate(request, now));
}

/** Decides a new application: the first refusal, or the normalised data and default PIN. */
export function checkApplication(request: ApplicationRequest, now: Date): Decision<{ application: AcceptedApplication }> {
  const decisions = evaluate(request, now);
  const { id, name, mobile, email, pin } = decisions;
  const refusals = refusalsOf(decisions);
  if (refusals.length > 0 || !id.allowed || !name.allowed || !mobile.allowed || !email.allowed || !pin.allowed) {
    return refusals[0];
  }
  return allow({
    application: {
      idNumber: id.idNumber.value,
      name: name.name,
      mobileNumber: mobile.mobileNumber,
      email: email.email,
      dateOfBirth: request.dateOfBirth,
      defaultPin: pin.pin,
    },
  });
}
