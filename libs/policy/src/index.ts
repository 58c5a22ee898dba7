/**
 * libs/policy: the CPS lifecycle rules of DOMAIN.md as pure functions of
 * their inputs and an explicit `now` (STYLE.md rule 1). docs/lifecycle.md
 * explains the rules and lists every reason code.
 */
export * from './decision';
export * from './reason-code';
export * from './taiwan-time';
export * from './national-id';
export * from './age';
export * from './holder-name';
export * from './mobile-number';
export * from './email-address';
export * from './application-fee';
export * from './user-code';
export * from './default-pin';
export * from './application';
export * from './delegation';
export * from './revocation-reason';
export * from './household-event';
export * from './revocation-status';
export * from './certificate-facts';
export * from './card-lifetime';
export * from './eight-year-cap';
export * from './certificate-validity';
export * from './certificate-state';
export * from './renewal';
export * from './reissuance';
export * from './reissuance-order';
export * from './delivery-estimate';
export * from './holder-service';
export * from './card-unlock';
export * from './notice-schedule';
