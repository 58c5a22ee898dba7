import { Body, Controller, Get, Header, HttpCode, Param, ParseIntPipe, Post, Put, Query, Req, Res, DefaultValuePipe, ParseEnumPipe } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { CrlKind } from '../../../../db/crl-publication';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import {
  CRL_KIND_VALUES,
  CrlScheduleDto,
  CrlScheduleViewDto,
  PublicationViewDto,
  PublishedCrlQueryDto,
  PublishedCrlViewDto,
  PublishNowDto,
  PublishNowResultDto,
} from './crl-operator.dto';
import { CrlOperatorService } from './crl-operator.service';

const KINDS: Record<CrlKind, CrlKind> = { complete: 'complete', partition: 'partition', delta: 'delta' };

@ApiTags('crl')
@ApiBearerAuth()
@Controller('v1/crl')
export class CrlOperatorController {
  constructor(private readonly crl: CrlOperatorService) {}

  @Get('authorities/:caId/schedules')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: "A CA's CRL schedules (complete, partition, delta); defaults where none was set" })
  @ApiOkResponse({ type: [CrlScheduleViewDto] })
  @ProblemResponses(401, 403, 404)
  schedules(@Param('caId') caId: string): Promise<CrlScheduleViewDto[]> {
    return this.crl.schedules(caId);
  }

  @Put('authorities/:caId/schedules/:kind')
  @Roles('operator')
  @Idempotent()
  @ApiOperation({
    summary: 'Set the schedule of one kind of CRL: interval or cron, and the nextUpdate margin',
    description: `kind is one of ${CRL_KIND_VALUES.join(', ')}. The worker publishes each slot exactly once.`,
  })
  @ApiOkResponse({ type: CrlScheduleViewDto })
  @ProblemResponses(400, 401, 403, 404, 422)
  saveSchedule(
    @Param('caId') caId: string,
    @Param('kind', new ParseEnumPipe(KINDS)) kind: CrlKind,
    @Body() dto: CrlScheduleDto,
    @Req() request: IdempotentRequest,
  ): Promise<CrlScheduleViewDto> {
    return this.crl.saveSchedule(caId, kind, dto, request.principal!, request.idempotency!);
  }

  @Post('authorities/:caId/publications')
  @HttpCode(202)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Publish now: one publication per kind, run by the worker at once (complete and partition before delta)' })
  @ApiAcceptedResponse({ type: PublishNowResultDto })
  @ProblemResponses(400, 401, 403, 404)
  publishNow(@Param('caId') caId: string, @Body() dto: PublishNowDto, @Req() request: IdempotentRequest): Promise<PublishNowResultDto> {
    return this.crl.publishNow(caId, dto.kinds, request.principal!, request.idempotency!);
  }

  @Get('authorities/:caId/publications')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Recent publications (scheduled slots, publish-now, recoveries) with their state, attempts and last error' })
  @ApiOkResponse({ type: [PublicationViewDto] })
  @ProblemResponses(401, 403, 404)
  publications(
    @Param('caId') caId: string,
    @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number,
  ): Promise<PublicationViewDto[]> {
    return this.crl.publications(caId, Math.min(Math.max(limit, 1), 500));
  }

  @Get('authorities/:caId/crls')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Published CRLs, newest first; earlier CRLs are kept' })
  @ApiOkResponse({ type: [PublishedCrlViewDto] })
  @ProblemResponses(400, 401, 403, 404)
  publishedCrls(@Param('caId') caId: string, @Query() query: PublishedCrlQueryDto): Promise<PublishedCrlViewDto[]> {
    return this.crl.publishedCrls(caId, query);
  }

  @Get('crls/:id/der')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'The DER of a published CRL, current or earlier' })
  @ApiProduces('application/pkix-crl')
  @ProblemResponses(401, 403, 404)
  async publishedCrlDer(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const { der, crlNumber } = await this.crl.publishedCrlDer(id);
    void reply
      .header('content-type', 'application/pkix-crl')
      .header('content-disposition', `attachment; filename="crl-${crlNumber}.crl"`)
      .send(der);
  }

  @Get('metrics')
  @Roles('operator', 'auditor')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'CRL health for alerting (Prometheus text): time to nextUpdate per scope, failing publications' })
  @ApiProduces('text/plain')
  @ProblemResponses(401, 403)
  metrics(): Promise<string> {
    return this.crl.metrics();
  }
}
