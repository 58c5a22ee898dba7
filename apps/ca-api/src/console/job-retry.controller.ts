import { Controller, HttpCode, HttpStatus, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { notFound } from '../common/refusals';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';

interface JobRow {
  id: string;
  task: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_at: Date | null;
}

/**
 * Issue 10: an operator retries a failed background job (notice, CRL
 * publication, OCSP refresh): its attempts start again from zero and it runs
 * at once. One transaction: graphile-worker's own reschedule_jobs (which
 * leaves a job a worker holds alone), one audit record and the
 * Idempotency-Key answer (a request whose claim a retry took over rolls back).
 */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/jobs')
export class JobRetryController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  @Post(':id/retry')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Retry a failed job now, with its attempts reset (audited)' })
  @ApiOkResponse({ description: '{ id, task, runAt, attempts, maxAttempts }' })
  @ProblemResponses(400, 401, 403, 404, 409)
  async retry(@Param('id') id: string, @Req() request: IdempotentRequest): Promise<{ id: string; task: string; runAt: string; attempts: number; maxAttempts: number }> {
    if (!/^\d{1,18}$/.test(id)) throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'a job id is a number');
    const principal = request.principal!;
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      const jobs: JobRow[] = await manager.query(
        `SELECT id::text, task_identifier AS task, key, attempts, max_attempts, last_error, locked_at
           FROM graphile_worker.jobs WHERE id = $1`,
        [id],
      );
      const job = jobs[0];
      if (!job) throw notFound('job-not-found', `no job ${id} (finished jobs are removed from the queue)`);
      if (job.locked_at) throw conflict('job-running', `job ${id} is running now`);
      if (job.attempts < job.max_attempts && !job.last_error) throw conflict('job-not-failed', `job ${id} has not failed`);
      const rescheduled: Array<{ id: string; run_at: Date; attempts: number; max_attempts: number }> = await manager.query(
        `SELECT id::text, run_at, attempts, max_attempts
           FROM graphile_worker.reschedule_jobs(ARRAY[$1::bigint], run_at := now(), attempts := 0::smallint)`,
        [id],
      );
      if (!rescheduled[0]) throw conflict('job-running', `job ${id} was taken by a worker`);
      await appendAudit(manager, {
        at: now,
        actorKind: 'operator',
        actorId: principal.staffId,
        officeId: principal.officeId,
        operation: 'job.retried',
        subjectKind: 'job',
        subjectId: id,
        before: { task: job.task, key: job.key, attempts: job.attempts, maxAttempts: job.max_attempts, lastError: job.last_error },
        after: { attempts: 0, runAt: rescheduled[0].run_at.toISOString() },
      });
      const result = { id, task: job.task, runAt: rescheduled[0].run_at.toISOString(), attempts: rescheduled[0].attempts, maxAttempts: rescheduled[0].max_attempts };
      await this.idempotency.completeInTransaction(manager, request.idempotency!, 200, result, now);
      return result;
    });
  }
}

function conflict(code: string, detail: string): ProblemException {
  return new ProblemException(code, HttpStatus.CONFLICT, 'Conflict', detail);
}
