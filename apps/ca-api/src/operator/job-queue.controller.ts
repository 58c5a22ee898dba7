import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Clock } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { noticeQueueMetrics, noticeQueueStatus, NoticeQueueStatus } from '../notifications/notice-queue.service';

/**
 * Issue 8: operators see the background queue (graphile-worker jobs of every
 * task, and the notices): pending, failed and recent, with no holder address
 * or name in the answer; and the same as Prometheus metrics.
 */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/jobs')
export class JobQueueController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  @Get()
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Job counts per task, pending and failed jobs, failed and recent notices, the notice scan cursor' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ description: 'the queue' })
  @ProblemResponses(401, 403)
  status(@Query('limit') limit?: string): Promise<NoticeQueueStatus> {
    return noticeQueueStatus(this.dataSource, { now: this.clock.now(), limit: Number(limit) || undefined });
  }

  @Get('metrics')
  @Roles('operator', 'auditor')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'The queue as Prometheus metrics' })
  @ApiOkResponse({ description: 'Prometheus text exposition' })
  metrics(): Promise<string> {
    return noticeQueueMetrics(this.dataSource, { now: this.clock.now() });
  }
}
