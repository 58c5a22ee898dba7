import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AppConfig, Clock, ProblemException } from '@moica/platform';
import { crlUrls } from '../../../../db/crl-partition';
import type { CrlKind } from '../../../../db/crl-publication';
import { CRL_KINDS, DEFAULT_SCHEDULES, scheduleProblems } from '../../../../db/crl-schedule';
import type { StaffPrincipal } from '../auth/principal';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { APP_CONFIG } from '../tokens';
import {
  CrlScheduleDto,
  CrlScheduleViewDto,
  PublicationViewDto,
  PublishedCrlQueryDto,
  PublishedCrlViewDto,
  PublishNowResultDto,
} from './crl-operator.dto';
import { CaRow, CrlOperatorRepository, PublicationRow, ScheduleRow } from './crl-operator.repository';

/**
 * CRL publication for operators (docs/crl.md): schedules per CA and kind,
 * "publish now", the publications and their failures, the published CRLs
 * (earlier ones kept), and the health metrics alerting watches. A change
 * and its Idempotency-Key answer commit in one transaction.
 */
@Injectable()
export class CrlOperatorService {
  constructor(
    private readonly repository: CrlOperatorRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  async schedules(caId: string): Promise<CrlScheduleViewDto[]> {
    await this.ca(caId);
    const stored = new Map((await this.repository.schedules(caId)).map((row) => [row.kind, row]));
    return CRL_KINDS.map((kind) => {
      const row = stored.get(kind);
      return row
        ? scheduleView(row, row.updated_by === 'default')
        : scheduleView(
            {
              kind,
              cron: null,
              cron_time_zone: 'Asia/Taipei',
              interval_seconds: DEFAULT_SCHEDULES[kind].intervalSeconds,
              next_update_seconds: DEFAULT_SCHEDULES[kind].nextUpdateSeconds,
              enabled: true,
              updated_by: null,
            },
            true,
          );
    });
  }

  async saveSchedule(caId: string, kind: CrlKind, dto: CrlScheduleDto, principal: StaffPrincipal, ticket: IdempotencyTicket): Promise<CrlScheduleViewDto> {
    const ca = await this.ca(caId);
    const now = this.clock.now();
    const problems = scheduleProblems(
      { cron: dto.cron ?? null, cronTimeZone: dto.cronTimeZone, intervalSeconds: dto.intervalSeconds ?? null, nextUpdateSeconds: dto.nextUpdateSeconds },
      now,
    );
    if (problems.length > 0) {
      throw new ProblemException('crl-schedule-invalid', HttpStatus.UNPROCESSABLE_ENTITY, 'Invalid CRL schedule', problems.join('; '), { problems });
    }
    const row: ScheduleRow = {
      kind,
      cron: dto.cron?.trim() ?? null,
      cron_time_zone: dto.cronTimeZone ?? 'Asia/Taipei',
      interval_seconds: dto.intervalSeconds ?? null,
      next_update_seconds: dto.nextUpdateSeconds,
      enabled: dto.enabled ?? true,
      updated_by: `staff:${principal.staffId}`,
    };
    const view = scheduleView(row, false);
    await this.repository.saveSchedule(
      ca.id,
      kind,
      row,
      {
        at: now,
        actorKind: 'operator',
        actorId: principal.staffId,
        operation: 'crl.schedule-changed',
        subjectKind: 'certificate-authority',
        subjectId: ca.id,
        after: { kind, cron: row.cron, cronTimeZone: row.cron_time_zone, intervalSeconds: row.interval_seconds, nextUpdateSeconds: row.next_update_seconds, enabled: row.enabled },
      },
      (client) => this.idempotency.completeInTransaction(client, ticket, 200, view, now),
    );
    return view;
  }

  /**
   * One publication per kind, each in a slot of its own (slot = now), so
   * nothing but the Idempotency-Key claim keeps a retry from queueing them
   * again: the answer is recorded in the transaction that queues them.
   */
  async publishNow(caId: string, kinds: CrlKind[], principal: StaffPrincipal, ticket: IdempotencyTicket): Promise<PublishNowResultDto> {
    const ca = await this.ca(caId);
    const now = this.clock.now();
    // Complete and partition CRLs first: a delta needs its base.
    const requests = CRL_KINDS.filter((k) => kinds.includes(k)).map((kind) => ({
      caId: ca.id,
      kind,
      slotAt: now,
      trigger: 'manual' as const,
      requestedBy: `staff:${principal.staffId}`,
      requestedAt: now,
    }));
    let result: PublishNowResultDto | undefined;
    await this.repository.requestPublications(
      requests,
      (publications) => ({
        at: now,
        actorKind: 'operator',
        actorId: principal.staffId,
        operation: 'crl.publish-now',
        subjectKind: 'certificate-authority',
        subjectId: ca.id,
        after: { kinds, publications },
      }),
      async (client, ids) => {
        result = { publications: (await this.repository.publications(ca.id, ids, ids.length, client)).map(publicationView) };
        await this.idempotency.completeInTransaction(client, ticket, 202, result, now);
      },
    );
    return result!;
  }

  async publications(caId: string, limit: number): Promise<PublicationViewDto[]> {
    await this.ca(caId);
    return (await this.repository.publications(caId, undefined, limit)).map(publicationView);
  }

  async publishedCrls(caId: string, query: PublishedCrlQueryDto): Promise<PublishedCrlViewDto[]> {
    const ca = await this.ca(caId);
    if (query.beforeNumber !== undefined && !/^[0-9]{1,19}$/.test(query.beforeNumber)) {
      throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'beforeNumber must be a CRL number');
    }
    const urls = crlUrls(ca.name, this.config.PUBLIC_BASE_URL, ca.crl_partitions);
    const rows = await this.repository.publishedCrls(ca.id, { ...query, limit: query.limit ?? 50 });
    return rows.map((row) => ({
      id: row.id,
      crlNumber: String(row.crl_number),
      kind: row.kind,
      partition: row.partition,
      baseCrlNumber: row.base_crl_number === null ? null : String(row.base_crl_number),
      thisUpdate: row.this_update.toISOString(),
      nextUpdate: row.next_update.toISOString(),
      entryCount: row.entry_count,
      byteSize: row.byte_size,
      sha256: row.sha256.toString('hex'),
      url:
        row.kind === 'complete'
          ? urls.complete
          : row.kind === 'partition'
            ? urls.partition(row.partition as number)
            : row.partition === null
              ? urls.completeDelta
              : urls.partitionDelta(row.partition),
      publicationId: row.publication_id,
    }));
  }

  async publishedCrlDer(id: string): Promise<{ der: Buffer; crlNumber: string }> {
    const found = await this.repository.publishedCrlDer(id);
    if (!found) throw new ProblemException('crl-not-found', HttpStatus.NOT_FOUND, 'CRL not found', `no published CRL ${id}`);
    return found;
  }

  /**
   * Prometheus text exposition (version 0.0.4) of CRL health, for alerting:
   * moica_crl_next_update_seconds (time left before each current CRL expires),
   * moica_crl_age_seconds, moica_crl_publications_failing (open publications
   * that failed at least once) and moica_crl_publication_failed_attempts.
   */
  async metrics(): Promise<string> {
    const now = this.clock.now().getTime();
    const { latest, failing } = await this.repository.health();
    const lines = [
      '# HELP moica_crl_next_update_seconds Seconds until the nextUpdate of the newest CRL of each scope (negative: expired).',
      '# TYPE moica_crl_next_update_seconds gauge',
      ...latest.map((l) => `moica_crl_next_update_seconds{${labels(l)}} ${Math.round((l.next_update.getTime() - now) / 1000)}`),
      '# HELP moica_crl_age_seconds Seconds since the thisUpdate of the newest CRL of each scope.',
      '# TYPE moica_crl_age_seconds gauge',
      ...latest.map((l) => `moica_crl_age_seconds{${labels(l)}} ${Math.round((now - l.this_update.getTime()) / 1000)}`),
      '# HELP moica_crl_number The cRLNumber of the newest CRL of each scope.',
      '# TYPE moica_crl_number gauge',
      ...latest.map((l) => `moica_crl_number{${labels(l)}} ${l.crl_number}`),
      '# HELP moica_crl_publications_failing Publications that failed and are being retried.',
      '# TYPE moica_crl_publications_failing gauge',
      ...failing.map((f) => `moica_crl_publications_failing{ca="${escape(f.ca)}",kind="${f.kind}"} ${f.publications}`),
      '# HELP moica_crl_publication_failed_attempts Attempts made by the failing publications.',
      '# TYPE moica_crl_publication_failed_attempts gauge',
      ...failing.map((f) => `moica_crl_publication_failed_attempts{ca="${escape(f.ca)}",kind="${f.kind}"} ${f.attempts}`),
    ];
    return `${lines.join('\n')}\n`;
  }

  private async ca(caId: string): Promise<CaRow> {
    const ca = /^[0-9a-f-]{36}$/i.test(caId) ? await this.repository.issuingCa(caId) : undefined;
    if (!ca) throw new ProblemException('ca-not-found', HttpStatus.NOT_FOUND, 'CA not found', `no issuing CA ${caId}`);
    return ca;
  }
}

function scheduleView(row: ScheduleRow, isDefault: boolean): CrlScheduleViewDto {
  return {
    kind: row.kind,
    cron: row.cron,
    cronTimeZone: row.cron_time_zone,
    intervalSeconds: row.interval_seconds,
    nextUpdateSeconds: row.next_update_seconds,
    enabled: row.enabled,
    isDefault,
    updatedBy: row.updated_by,
  };
}

function publicationView(row: PublicationRow): PublicationViewDto {
  return {
    id: row.id,
    kind: row.kind,
    slotAt: row.slot_at.toISOString(),
    trigger: row.trigger,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at.toISOString(),
    publishedAt: row.published_at?.toISOString() ?? null,
  };
}

function labels(l: { ca: string; kind: string; partition: number | null }): string {
  return `ca="${escape(l.ca)}",kind="${l.kind}",partition="${l.partition ?? 'complete'}"`;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
