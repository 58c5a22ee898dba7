/**
 * libs/policy: the CPS lifecycle rules of DOMAIN.md as pure functions of
 * their inputs and an explicit `now` (STYLE.md rule 1).
 */
export {};
