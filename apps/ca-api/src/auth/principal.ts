import type { StaffRole } from '@moica/db';

/** Who is calling: a staff member authenticated by a credential, bound to an office and a role. */
export interface StaffPrincipal {
  kind: 'staff';
  staffId: string;
  officeId: string | null;
  role: StaffRole;
  credentialId: string;
}

/** The key under which this caller's idempotency keys and audit records are filed. */
export function principalKey(principal: StaffPrincipal): string {
  return `staff:${principal.staffId}`;
}
