import { join } from 'node:path';
import { createStaffWithToken } from '../src/auth/staff-provisioning';
import { CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';

/** Issue 5: operators rotate the OCSP signer through the API, with two-operator approval (issue 4). */
describe('key operations over HTTP (M-of-N)', () => {
  let api: CaApiHarness;
  let secondOperator: string;
  beforeAll(async () => {
    api = await startCaApi();
    secondOperator = (await createStaffWithToken(api.pool, { name: 'Operator Lee', role: 'operator', officeId: null }, api.clock.now())).token;
  }, 60_000);
  afterAll(() => api?.close());

  it('rotates the OCSP signer only after a second operator approves; the requester cannot approve', async () => {
    const parameters = {
      ca: 'dev-issuing',
      subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'OCSP Responder 2' }],
      keyLocation: `software:${join(api.keysDir, 'ocsp-rotated.key.pem')}`,
      keyAlgorithm: 'EC-P-256',
      validityDays: 30,
    };
    const requested = await api.call('POST', '/v1/operator/key-operations', { token: api.tokens.operator, body: { operation: 'rotate-ocsp-signer', parameters } });
    expect(requested.status).toBe(201);
    expect(requested.body.state).toBe('pending');
    const id = requested.body.id;

    const early = await api.call('POST', `/v1/operator/key-operations/${id}/execution`, { token: api.tokens.operator });
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('urn:moica-ca:problem:key-operation-not-approved');
    const self = await api.call('POST', `/v1/operator/key-operations/${id}/approval`, { token: api.tokens.operator, body: {} });
    expect(self.status).toBe(403);
    expect(self.body.type).toBe('urn:moica-ca:problem:key-operation-own-request');
    expect((await api.call('POST', `/v1/operator/key-operations/${id}/approval`, { token: api.tokens.clerk, body: {} })).status).toBe(403);

    const approved = await api.call('POST', `/v1/operator/key-operations/${id}/approval`, { token: secondOperator, body: {} });
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('approved');
    const before = await api.pool.query(`SELECT id FROM ocsp_signer WHERE active`);
    const executed = await api.call('POST', `/v1/operator/key-operations/${id}/execution`, { token: secondOperator });
    expect(executed.status).toBe(200);
    expect(executed.body.state).toBe('executed');
    const after = await api.pool.query(`SELECT id FROM ocsp_signer WHERE active`);
    expect(after.rows).toHaveLength(1);
    expect(after.rows[0].id).not.toBe(before.rows[0].id);
    const again = await api.call('POST', `/v1/operator/key-operations/${id}/execution`, { token: api.tokens.operator });
    expect(again.status).toBe(409);
    const audit = await api.pool.query(`SELECT operation FROM audit_log WHERE subject_id = $1 OR detail->>'approvalId' = $1 ORDER BY id`, [id]);
    expect(audit.rows.map((r) => r.operation)).toEqual(expect.arrayContaining(['key-ceremony.requested', 'key-ceremony.approved', 'key-ceremony.executed']));
    expect((await api.call('GET', '/v1/audit/verification', { token: api.tokens.auditor })).body).toMatchObject({ intact: true });
  });
});
