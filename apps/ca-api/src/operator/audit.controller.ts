import { Controller, Get, HttpStatus, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditChainVerdict, verifyAuditChain } from '@moica/db';
import { ProblemException } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';

const ID = /^\d{1,18}$/;

function badRequest(detail: string): ProblemException {
  return new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', detail);
}

/** The audit log, for auditors and operators: search, and verify the hash chain over a range. */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  @Roles('auditor', 'operator')
  @ApiOperation({ summary: 'Search the audit log (newest first)' })
  @ApiQuery({ name: 'actor', required: false, description: 'staff id' })
  @ApiQuery({ name: 'office', required: false, description: 'office id' })
  @ApiQuery({ name: 'operation', required: false, description: 'exact, or a prefix ending in * (certificate.*)' })
  @ApiQuery({ name: 'subject', required: false, description: 'card number, certificate or holder id' })
  @ApiQuery({ name: 'from', required: false }) @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'beforeId', required: false }) @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'audit records with their hashes' })
  @ProblemResponses(400, 401, 403)
  async search(
    @Query('actor') actor?: string,
    @Query('office') office?: string,
    @Query('operation') operation?: string,
    @Query('subject') subject?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('beforeId') beforeId?: string,
    @Query('limit') limit?: string,
  ): Promise<unknown[]> {
    if (beforeId && !ID.test(beforeId)) throw badRequest('beforeId must be a record id');
    for (const [name, value] of [['from', from], ['to', to]] as const) {
      if (value && Number.isNaN(Date.parse(value))) throw badRequest(`${name} must be an ISO 8601 time`);
    }
    const rows: unknown[] = await this.dataSource.query(
      `SELECT id::text, at, actor_kind AS "actorKind", actor_id AS "actorId", office_id AS "officeId", operation,
              subject_kind AS "subjectKind", subject_id AS "subjectId", delegate, before, after, detail,
              encode(prev_hash, 'hex') AS "prevHash", encode(hash, 'hex') AS hash
         FROM audit_log
        WHERE ($1::text IS NULL OR actor_id = $1)
          AND ($2::uuid IS NULL OR office_id = $2::uuid)
          AND ($3::text IS NULL OR (CASE WHEN right($3, 1) = '*' THEN operation LIKE rtrim($3, '*') || '%' ELSE operation = $3 END))
          AND ($4::text IS NULL OR subject_id = $4)
          AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
          AND ($7::bigint IS NULL OR id < $7)
        ORDER BY audit_log.id DESC LIMIT $8`,
      [actor ?? null, isUuid(office) ? office : null, operation ?? null, subject ?? null, from ?? null, to ?? null, beforeId ?? null,
        Math.min(Math.max(Number(limit) || 100, 1), 1000)],
    );
    return rows;
  }

  @Get('verification')
  @Roles('auditor', 'operator')
  @ApiOperation({ summary: 'Recompute the hash chain over [fromId, toId] and say where it breaks, if it does' })
  @ApiQuery({ name: 'fromId', required: false }) @ApiQuery({ name: 'toId', required: false })
  @ApiOkResponse({ description: '{ intact, checked, lastId } or { intact: false, brokenAt, problem }' })
  @ProblemResponses(400, 401, 403)
  verify(@Query('fromId') fromId?: string, @Query('toId') toId?: string): Promise<AuditChainVerdict> {
    if ((fromId && !ID.test(fromId)) || (toId && !ID.test(toId))) throw badRequest('fromId and toId are record ids');
    return verifyAuditChain(this.dataSource, { fromId, toId });
  }
}

function isUuid(value: string | undefined): boolean {
  return !!value && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
