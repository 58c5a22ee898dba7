import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Clock } from '@moica/platform';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { CrlOperatorRepository } from '../crl/crl-operator.repository';
import { OperatorOverviewRepository } from './operator-overview.repository';

/** Days shown by the overview's charts (issue 10). */
export const OVERVIEW_DAYS = 90;

export class OperatorSessionDto {
  @ApiProperty() staffId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['operator', 'auditor'] }) role!: string;
  @ApiPropertyOptional({ nullable: true }) officeId!: string | null;
}

export class DailyActivityDto {
  @ApiProperty({ description: 'Taiwan calendar day (Asia/Taipei), YYYY-MM-DD' }) day!: string;
  @ApiProperty({ description: 'first certificates of a card issued that day' }) issued!: number;
  @ApiProperty({ description: 'certificates issued by renewal (展期) that day' }) renewed!: number;
  @ApiProperty({ description: 'certificates revoked that day' }) revoked!: number;
}

export class ExpiryDto {
  @ApiProperty({ enum: ['ca', 'ocsp-signer'] }) kind!: string;
  @ApiProperty({ description: 'the CA (of the OCSP signer)' }) name!: string;
  @ApiProperty({ description: 'root, issuing or ocsp-signer' }) role!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty() notAfter!: string;
}

export class AttentionDto {
  @ApiProperty({ enum: ['crl-next-update', 'crl-publication-failing', 'failed-jobs', 'pending-approvals', 'certificate-expiry'] }) kind!: string;
  @ApiProperty({ description: 'what needs attention, in English (the console translates by kind)' }) detail!: string;
  @ApiPropertyOptional({ description: 'kind-specific figures (counts, times)' }) data?: Record<string, unknown>;
}

export class OperatorOverviewDto {
  @ApiProperty({ description: 'the instant the figures were computed at' }) at!: string;
  @ApiProperty({
    type: 'object',
    description: 'holder certificates by effective state: valid, suspended, revoked, expired, on-hold-until-activated, not-yet-valid (states with none are left out)',
    additionalProperties: { type: 'integer' },
  })
  certificatesByState!: Record<string, number>;
  @ApiProperty({ type: [DailyActivityDto], description: `the last ${OVERVIEW_DAYS} days, oldest first` }) daily!: DailyActivityDto[];
  @ApiProperty({ type: [ExpiryDto], description: 'CA certificates and OCSP signers, soonest expiry first' }) expiries!: ExpiryDto[];
  @ApiProperty({ type: [AttentionDto] }) attention!: AttentionDto[];
}

/** A current CRL needs attention when less than this share of its validity is left (or it is past nextUpdate). */
const CRL_ATTENTION_SHARE = 0.25;
/** A CA or OCSP signer certificate needs attention this many days before it expires. */
const CERTIFICATE_ATTENTION_DAYS = 90;

/**
 * Issue 10: what the console's overview shows, computed in SQL: certificates
 * by state, daily issuance/renewal/revocation, expiries, and what needs
 * attention (CRLs close to nextUpdate, failing publications, failed jobs,
 * pending approvals). Read-only, for operators and auditors.
 */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator')
export class OperatorOverviewController {
  constructor(
    private readonly overview: OperatorOverviewRepository,
    private readonly crl: CrlOperatorRepository,
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  @Get('session')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Who the token belongs to (the console signs in with it and shows what the role allows)' })
  @ApiOkResponse({ type: OperatorSessionDto })
  @ProblemResponses(401, 403)
  async session(@Req() request: AuthenticatedRequest): Promise<OperatorSessionDto> {
    const principal = request.principal!;
    const rows: Array<{ name: string }> = await this.dataSource.query(`SELECT name FROM staff_member WHERE id = $1`, [principal.staffId]);
    return { staffId: principal.staffId, name: rows[0]?.name ?? '', role: principal.role, officeId: principal.officeId };
  }

  @Get('overview')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: `Certificates by state, issuance/renewal/revocation per day over ${OVERVIEW_DAYS} days, expiries, what needs attention` })
  @ApiOkResponse({ type: OperatorOverviewDto })
  @ProblemResponses(401, 403)
  async show(): Promise<OperatorOverviewDto> {
    const now = this.clock.now();
    const [certificatesByState, daily, expiries, health, failedJobs, pendingApprovals] = await Promise.all([
      this.overview.certificatesByState(now),
      this.overview.dailyActivity(now, OVERVIEW_DAYS),
      this.overview.expiries(),
      this.crl.health(),
      this.overview.failedJobs(),
      this.overview.pendingApprovals(),
    ]);
    const attention: AttentionDto[] = [];
    for (const crl of health.latest) {
      const validity = crl.next_update.getTime() - crl.this_update.getTime();
      const left = crl.next_update.getTime() - now.getTime();
      if (left < validity * CRL_ATTENTION_SHARE) {
        const scope = crl.kind === 'complete' ? 'complete CRL' : `${crl.kind} CRL${crl.partition === null ? '' : ` of partition ${crl.partition}`}`;
        attention.push({
          kind: 'crl-next-update',
          detail: `${crl.ca}: the ${scope} #${crl.crl_number} ${left < 0 ? 'is past' : 'is close to'} its nextUpdate ${crl.next_update.toISOString()}`,
          data: { ca: crl.ca, crlKind: crl.kind, partition: crl.partition, crlNumber: crl.crl_number, nextUpdate: crl.next_update.toISOString(), expired: left < 0 },
        });
      }
    }
    for (const failing of health.failing) {
      attention.push({
        kind: 'crl-publication-failing',
        detail: `${failing.ca}: ${failing.publications} ${failing.kind} CRL publication(s) failing after ${failing.attempts} attempt(s)`,
        data: { ca: failing.ca, crlKind: failing.kind, publications: failing.publications, attempts: failing.attempts },
      });
    }
    for (const job of failedJobs) {
      attention.push({ kind: 'failed-jobs', detail: `${job.count} failed ${job.task} job(s)`, data: { task: job.task, count: job.count } });
    }
    if (pendingApprovals > 0) {
      attention.push({ kind: 'pending-approvals', detail: `${pendingApprovals} key operation(s) waiting for approval or execution`, data: { count: pendingApprovals } });
    }
    for (const expiry of expiries) {
      const days = (expiry.notAfter.getTime() - now.getTime()) / 86_400_000;
      if (expiry.active && days < CERTIFICATE_ATTENTION_DAYS) {
        attention.push({
          kind: 'certificate-expiry',
          detail: `${expiry.kind === 'ca' ? `CA ${expiry.name}` : `OCSP signer of ${expiry.name}`} expires ${expiry.notAfter.toISOString()}`,
          data: { name: expiry.name, role: expiry.role, notAfter: expiry.notAfter.toISOString(), days: Math.floor(days) },
        });
      }
    }
    return {
      at: now.toISOString(),
      certificatesByState,
      daily,
      expiries: expiries.map((e) => ({ ...e, notAfter: e.notAfter.toISOString() })),
      attention,
    };
  }
}
