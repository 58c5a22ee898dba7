import type { StaffRole } from '@moica/db';
import { Pool } from 'pg';
import { appendAudit, inTransaction, Queryable, queryRows } from '@moica/db';
import { apiTokenDigest, newApiToken } from './api-token';

/**
 * Registration offices, staff and their API tokens, for the `staff` command
 * and for tests. The token is returned once and stored only as its SHA-256.
 */
export async function ensureOffice(db: Queryable, code: string, name: string): Promise<string> {
  const rows = await queryRows<{ id: string }>(
    db,
    `INSERT INTO registration_office (code, name) VALUES ($1, $2)
     ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [code, name],
  );
  return rows[0].id;
}

export async function createStaffWithToken(
  db: Queryable,
  staff: { name: string; role: StaffRole; officeId: string | null; expiresAt?: Date | null },
  at: Date,
  actor = 'staff-provisioning',
): Promise<{ staffId: string; credentialId: string; token: string }> {
  // A pool: one transaction of its own, so no token exists without its audit record.
  if (db instanceof Pool) return inTransaction(db, (client) => createStaffWithToken(client, staff, at, actor));
  const [member] = await queryRows<{ id: string }>(
    db,
    `INSERT INTO staff_member (office_id, name, role) VALUES ($1, $2, $3) RETURNING id`,
    [staff.officeId, staff.name, staff.role],
  );
  const token = newApiToken();
  const [credential] = await queryRows<{ id: string }>(
    db,
    `INSERT INTO api_credential (staff_id, kind, secret_hash, expires_at, description) VALUES ($1, 'token', $2, $3, $4) RETURNING id`,
    [member.id, apiTokenDigest(token), staff.expiresAt ?? null, `token of ${staff.name}`],
  );
  await appendAudit(db, {
    at,
    actorKind: 'system',
    actorId: actor,
    officeId: staff.officeId,
    operation: 'staff.created',
    subjectKind: 'staff',
    subjectId: member.id,
    after: { role: staff.role, officeId: staff.officeId, credentialId: credential.id },
  });
  return { staffId: member.id, credentialId: credential.id, token };
}
