/**
 * Ceremony operators: `staff_member` rows with role 'operator', authenticated
 * by an API token (`mca_` + 32 random bytes, stored only as its SHA-256, the
 * same credential the CA API accepts). The token comes from a file or the
 * environment, never from the command line.
 */
import { apiTokenDigest, looksLikeApiToken } from '../../apps/ca-api/src/auth/api-token';
import { Queryable, queryRows } from '../../db/audit-chain';
import { CeremonyRefused } from './ceremony-errors';

export interface Operator {
  staffId: string;
  name: string;
  /** How audit records and approvals name the operator: `staff:<id>`, as the CA API does. */
  key: string;
}

/** Resolves a token to an active operator, or refuses with the reason (never echoing the token). */
export async function authenticateOperator(db: Queryable, token: string, now: Date): Promise<Operator> {
  const candidate = token.trim();
  if (!looksLikeApiToken(candidate)) throw new CeremonyRefused('unauthenticated', 'the operator token is malformed (expected mca_...)');
  const rows = await queryRows<{
    staff_id: string;
    name: string;
    role: string;
    staff_active: boolean;
    expires_at: Date | null;
    revoked_at: Date | null;
  }>(
    db,
    `SELECT s.id AS staff_id, s.name, s.role, s.active AS staff_active, c.expires_at, c.revoked_at
       FROM api_credential c JOIN staff_member s ON s.id = c.staff_id
      WHERE c.kind = 'token' AND c.secret_hash = $1`,
    [apiTokenDigest(candidate)],
  );
  const row = rows[0];
  if (!row) throw new CeremonyRefused('unauthenticated', 'unknown operator token');
  if (row.revoked_at) throw new CeremonyRefused('unauthenticated', 'the operator token was revoked');
  if (row.expires_at && row.expires_at.getTime() <= now.getTime()) {
    throw new CeremonyRefused('unauthenticated', 'the operator token has expired');
  }
  if (!row.staff_active) throw new CeremonyRefused('unauthenticated', `staff member ${row.name} is no longer active`);
  if (row.role !== 'operator') {
    throw new CeremonyRefused('not-an-operator', `staff member ${row.name} has role ${row.role}; key ceremonies need role operator`);
  }
  return { staffId: row.staff_id, name: row.name, key: operatorKey(row.staff_id) };
}

export function operatorKey(staffId: string): string {
  return `staff:${staffId}`;
}

/** N of M-of-N: the active operators with at least one usable token. */
export async function countActiveOperators(db: Queryable, now: Date): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    db,
    `SELECT count(DISTINCT s.id)::int AS n
       FROM staff_member s JOIN api_credential c ON c.staff_id = s.id
      WHERE s.role = 'operator' AND s.active AND c.kind = 'token' AND c.revoked_at IS NULL
        AND (c.expires_at IS NULL OR c.expires_at > $1)`,
    [now],
  );
  return rows[0].n;
}

/** The operator keys (`staff:<id>`) among `keys` that are still active operators. */
export async function stillActiveOperators(db: Queryable, keys: string[]): Promise<Set<string>> {
  const ids = keys.filter((key) => key.startsWith('staff:')).map((key) => key.slice('staff:'.length));
  if (ids.length === 0) return new Set();
  const rows = await queryRows<{ id: string }>(
    db,
    `SELECT id::text AS id FROM staff_member WHERE id = ANY($1::uuid[]) AND role = 'operator' AND active`,
    [ids],
  );
  return new Set(rows.map((row) => operatorKey(row.id)));
}
