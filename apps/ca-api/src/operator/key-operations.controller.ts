import { Body, Controller, Get, HttpCode, HttpStatus, Inject, OnModuleDestroy, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AppConfig, Clock, ProblemException } from '@moica/platform';
import {
  approveOperation,
  BeforeCommit,
  CeremonyContext,
  executeOperation,
  KeyOperationRequest,
  listRequests,
  parseQuorum,
  rejectOperation,
  requestOperation,
  RequestState,
  showRequest,
} from '../../../../tools/key-ceremony/approvals';
import { CeremonyRefused } from '../../../../tools/key-ceremony/ceremony-errors';
import { ceremonyRunner, precheckRequest } from '../../../../tools/key-ceremony/ceremony-operations';
import { APPROVED_OPERATIONS } from '../../../../tools/key-ceremony/ceremony-parameters';
import type { Operator } from '../../../../tools/key-ceremony/operators';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { APP_CONFIG } from '../tokens';

export class KeyOperationRequestDto {
  @ApiProperty({ enum: APPROVED_OPERATIONS, description: 'The operations that create or use a CA key (docs/key-ceremony.md)' })
  @IsIn(APPROVED_OPERATIONS as unknown as string[])
  operation!: string;

  @ApiProperty({ description: 'Parameters of the operation, as for the key-ceremony command (e.g. rotate-ocsp-signer: ca, subject, keyLocation, keyAlgorithm, validityDays)' })
  @IsObject()
  parameters!: Record<string, unknown>;
}

export class KeyOperationApprovalDto {
  @ApiPropertyOptional({ description: 'The parameters digest the approver reviewed (refused if the stored parameters differ)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  parametersDigest?: string;
}

export class KeyOperationRejectionDto {
  @ApiProperty()
  @IsString()
  @MaxLength(500)
  reason!: string;
}

const STATUS: Record<string, number> = {
  'invalid-parameters': HttpStatus.UNPROCESSABLE_ENTITY,
  'quorum-misconfigured': HttpStatus.CONFLICT,
  'not-found': HttpStatus.NOT_FOUND,
  'own-request': HttpStatus.FORBIDDEN,
  'already-approved': HttpStatus.CONFLICT,
  'not-pending': HttpStatus.CONFLICT,
  'not-approved': HttpStatus.CONFLICT,
  'already-executed': HttpStatus.CONFLICT,
  rejected: HttpStatus.CONFLICT,
  'parameters-changed': HttpStatus.CONFLICT,
  'not-an-approver': HttpStatus.FORBIDDEN,
  conflict: HttpStatus.CONFLICT,
  'missing-secret': HttpStatus.SERVICE_UNAVAILABLE,
};

/**
 * M-of-N key operations through the API (issue 5: operators rotate the OCSP
 * signer; issue 4: operations that create or use a CA key need two
 * operators). The same approval rules and audit records as the key-ceremony
 * command: a request counts as its requester's approval, another operator
 * approves, an approver executes once. Running apps load keys at start: after
 * a rotation, restart the OCSP responders (docs/key-ceremony.md). Each step
 * records its Idempotency-Key answer in its own transaction, so a request
 * whose claim a retry took over rolls back instead of acting twice.
 */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/key-operations')
export class KeyOperationsController implements OnModuleDestroy {
  private readonly pool: Pool;
  private readonly ctx: CeremonyContext;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyRepository,
  ) {
    this.pool = new Pool({ connectionString: config.DATABASE_URL, max: 2, application_name: 'moica-ca-api-key-operations' });
    this.pool.on('error', () => undefined);
    this.ctx = { pool: this.pool, now: () => clock.now(), quorum: parseQuorum(String(config.KEY_CEREMONY_QUORUM)) };
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  @Get()
  @Roles('operator', 'auditor')
  @ApiQuery({ name: 'state', required: false, enum: ['pending', 'approved', 'rejected', 'executed'] })
  @ApiOperation({ summary: 'Key-operation requests and their approvals' })
  @ApiOkResponse({ description: 'requests, newest first' })
  list(@Query('state') state?: RequestState): Promise<KeyOperationRequest[]> {
    return this.run(() => listRequests(this.pool, state && ['pending', 'approved', 'rejected', 'executed'].includes(state) ? state : undefined));
  }

  @Get(':id')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'One request, with the digest approvers review' })
  @ProblemResponses(401, 403, 404)
  show(@Param('id') id: string): Promise<KeyOperationRequest> {
    return this.run(() => showRequest(this.pool, id));
  }

  @Post()
  @HttpCode(201)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Request a key operation (counts as the first approval)' })
  @ProblemResponses(400, 401, 403, 409, 422)
  async request(@Body() dto: KeyOperationRequestDto, @Req() request: IdempotentRequest): Promise<KeyOperationRequest> {
    const operator = await this.operator(request);
    return this.run(() => requestOperation(this.ctx, operator, dto.operation, dto.parameters, precheckRequest, this.complete(request, 201)));
  }

  @Post(':id/approval')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Approve, as another operator than the requester' })
  @ProblemResponses(400, 401, 403, 404, 409)
  async approve(@Param('id') id: string, @Body() dto: KeyOperationApprovalDto, @Req() request: IdempotentRequest): Promise<KeyOperationRequest> {
    const operator = await this.operator(request);
    return this.run(() => approveOperation(this.ctx, operator, id, dto.parametersDigest, this.complete(request, 200)));
  }

  @Post(':id/rejection')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Reject a pending or approved request' })
  @ProblemResponses(400, 401, 403, 404, 409)
  async reject(@Param('id') id: string, @Body() dto: KeyOperationRejectionDto, @Req() request: IdempotentRequest): Promise<KeyOperationRequest> {
    const operator = await this.operator(request);
    return this.run(() => rejectOperation(this.ctx, operator, id, dto.reason, this.complete(request, 200)));
  }

  @Post(':id/execution')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Execute an approved request once (by one of its approvers)' })
  @ProblemResponses(400, 401, 403, 404, 409, 503)
  async execute(@Param('id') id: string, @Req() request: IdempotentRequest): Promise<KeyOperationRequest> {
    const operator = await this.operator(request);
    const runner = ceremonyRunner({
      secrets: { softwareKeyPassphrase: this.config.SOFTWARE_KEY_PASSPHRASE, pkcs11Pin: this.config.PKCS11_PIN },
      outDir: join(tmpdir(), 'moica-ca-key-operations'),
    });
    return this.run(() => executeOperation(this.ctx, operator, id, runner, this.complete(request, 200)));
  }

  /** Records the step's answer (with the route's status) in the step's transaction. */
  private complete(request: IdempotentRequest, status: number): BeforeCommit {
    return (tx, result) => this.idempotency.completeInTransaction(tx, request.idempotency!, status, result, this.clock.now());
  }

  private async operator(request: AuthenticatedRequest): Promise<Operator> {
    const principal = request.principal!;
    const rows = await this.pool.query<{ name: string }>(`SELECT name FROM staff_member WHERE id = $1`, [principal.staffId]);
    return { staffId: principal.staffId, name: rows.rows[0]?.name ?? principal.staffId, key: `staff:${principal.staffId}` };
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof CeremonyRefused) {
        throw new ProblemException(`key-operation-${error.code}`, STATUS[error.code] ?? HttpStatus.CONFLICT, 'Key operation refused', error.message);
      }
      throw error;
    }
  }
}
