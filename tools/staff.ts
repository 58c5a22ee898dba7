/**
 * Registration offices, staff and API tokens:
 *
 *   npm run staff -- office <code> <name>
 *   npm run staff -- add <name> <clerk|supervisor|operator|auditor> [--office <code>] [--expires <ISO date>]
 *   npm run staff -- revoke-token <credential id>
 *   npm run staff -- list
 *
 * On DATABASE_URL. `add` prints the new API token once; only its SHA-256 is
 * stored. Every change writes an audit record.
 */
import './module-aliases';
import 'reflect-metadata';
import { Pool } from 'pg';
import { appendAudit } from '../db/audit-chain';
import { inTransaction } from '../db/transaction';
import { createStaffWithToken, ensureOffice } from '../apps/ca-api/src/auth/staff-provisioning';

const ROLES = ['clerk', 'supervisor', 'operator', 'auditor'] as const;

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const [command, ...rest] = process.argv.slice(2);
  const option = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    if (command === 'office') {
      const [code, ...name] = rest;
      if (!code || name.length === 0) throw new Error('usage: office <code> <name>');
      const id = await inTransaction(pool, async (client) => {
        const saved = await ensureOffice(client, code, name.join(' '));
        await appendAudit(client, { at: new Date(), actorKind: 'system', actorId: 'staff-cli', officeId: saved, operation: 'office.saved', subjectKind: 'office', subjectId: saved, after: { code } });
        return saved;
      });
      console.log(`office ${code}: ${id}`);
    } else if (command === 'add') {
      const [name, role] = rest;
      if (!name || !ROLES.includes(role as (typeof ROLES)[number])) throw new Error(`usage: add <name> <${ROLES.join('|')}> [--office <code>] [--expires <ISO date>]`);
      let officeId: string | null = null;
      const officeCode = option('office');
      if (officeCode) {
        const { rows } = await pool.query<{ id: string }>(`SELECT id FROM registration_office WHERE code = $1`, [officeCode]);
        if (!rows[0]) throw new Error(`no office ${officeCode}`);
        officeId = rows[0].id;
      }
      if ((role === 'clerk' || role === 'supervisor') && !officeId) throw new Error('clerks and supervisors need --office');
      const expires = option('expires');
      const created = await createStaffWithToken(
        pool,
        { name, role: role as (typeof ROLES)[number], officeId, expiresAt: expires ? new Date(expires) : null },
        new Date(),
        'staff-cli',
      );
      console.log(`staff ${created.staffId} (${role}), credential ${created.credentialId}`);
      console.log(`API token (shown once): ${created.token}`);
    } else if (command === 'revoke-token') {
      const [id] = rest;
      await inTransaction(pool, async (client) => {
        const { rowCount } = await client.query(`UPDATE api_credential SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
        if (!rowCount) throw new Error(`no active credential ${id}`);
        await appendAudit(client, { at: new Date(), actorKind: 'system', actorId: 'staff-cli', operation: 'credential.revoked', subjectKind: 'credential', subjectId: id });
      });
      console.log(`credential ${id} revoked`);
    } else if (command === 'list') {
      const { rows } = await pool.query(
        `SELECT s.id, s.name, s.role, o.code AS office, s.active,
                count(c.id) FILTER (WHERE c.revoked_at IS NULL) AS active_tokens
           FROM staff_member s LEFT JOIN registration_office o ON o.id = s.office_id LEFT JOIN api_credential c ON c.staff_id = s.id
          GROUP BY s.id, o.code ORDER BY s.created_at`,
      );
      console.table(rows);
    } else {
      throw new Error('commands: office | add | revoke-token | list');
    }
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
