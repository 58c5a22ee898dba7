import { Controller, Get, HttpStatus, Inject, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { crlReasonFromCode } from '@moica/pki';
import { Clock, ProblemException } from '@moica/platform';
import type { StaffRole } from '@moica/db';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { notFound } from '../common/refusals';
import { effectiveStateSql } from './effective-state.sql';


/**
 * The roles that see the holder's national ID number in a look-up, and then
 * only as its last 4 digits (issue 10): auditors, who tie a certificate to a
 * person when they investigate a complaint. Operators run the CA's machinery
 * and see none. The console never decrypts the number: the last 4 digits are
 * stored in clear (they are in the certificate too, DOMAIN.md profile).
 */
export const ROLES_SEEING_NATIONAL_ID: readonly StaffRole[] = ['auditor'];

/** Masks all but the last 4 digits of a national ID (1 letter + 9 digits). */
export function maskedNationalId(last4: string): string {
  return `******${last4}`;
}

export class StatusChangeDto {
  @ApiProperty() at!: string;
  @ApiPropertyOptional({ nullable: true }) from!: string | null;
  @ApiProperty() to!: string;
  @ApiPropertyOptional({ nullable: true, description: 'RFC 5280 reason name' }) reason!: string | null;
  @ApiProperty() actorKind!: string;
  @ApiPropertyOptional({ nullable: true }) actorId!: string | null;
}

export class CertificateHistoryDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'hex' }) serial!: string;
  @ApiProperty({ enum: ['signature', 'encryption'] }) kind!: string;
  @ApiProperty({ description: 'effective state now (libs/policy effectiveState)' }) state!: string;
  @ApiProperty() notBefore!: string;
  @ApiProperty() notAfter!: string;
  @ApiPropertyOptional({ nullable: true }) revokedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) reason!: string | null;
  @ApiProperty() cardNumber!: string;
  @ApiProperty({ description: 'the 16-digit holder number of the subject (never the national ID)' }) holderNumber!: string;
  @ApiPropertyOptional({ nullable: true, description: 'serial of the certificate this one renewed' }) renewedFromSerial!: string | null;
  @ApiPropertyOptional({ description: 'auditors only: the national ID masked but for its last 4 digits' }) nationalId?: string;
  @ApiProperty({ type: [StatusChangeDto] }) history!: StatusChangeDto[];
}

interface Row {
  id: string;
  serial: string;
  kind: string;
  state: string;
  not_before: Date;
  not_after: Date;
  revoked_at: Date | null;
  revocation_reason: number | null;
  card_number: string;
  holder_number: string;
  national_id_last4: string;
  renewed_from_serial: string | null;
  history: Array<{ at: string; from: string | null; to: string; reason: number | null; actorKind: string; actorId: string | null }>;
}

/** Issue 10: look a certificate up by serial or card number, with its history of states, for operators and auditors. */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/certificates')
export class CertificateHistoryController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  @Get()
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Certificates by serial (hex) or card number, with their history of states' })
  @ApiQuery({ name: 'serial', required: false }) @ApiQuery({ name: 'cardNumber', required: false })
  @ApiOkResponse({ type: [CertificateHistoryDto] })
  @ProblemResponses(400, 401, 403, 404)
  async find(@Req() request: AuthenticatedRequest, @Query('serial') serial?: string, @Query('cardNumber') cardNumber?: string): Promise<CertificateHistoryDto[]> {
    if (!!serial === !!cardNumber) throw badRequest('give either serial or cardNumber');
    if (serial && !/^[0-9a-fA-F]{1,42}$/.test(serial)) throw badRequest('serial must be hexadecimal');
    if (cardNumber && !/^[0-9A-Za-z]{1,40}$/.test(cardNumber)) throw badRequest('cardNumber has letters and digits only');
    const rows: Row[] = await this.dataSource.query(
      `SELECT c.id, ltrim(encode(c.serial, 'hex'), '0') AS serial, c.kind, ${effectiveStateSql('c', '$3')} AS state,
              c.not_before, c.not_after, c.revoked_at, c.revocation_reason, k.card_number, h.holder_number, h.national_id_last4,
              ltrim(encode(r.serial, 'hex'), '0') AS renewed_from_serial,
              coalesce((SELECT json_agg(json_build_object('at', e.at, 'from', e.from_status, 'to', e.to_status, 'reason', e.reason,
                                                          'actorKind', e.actor_kind, 'actorId', e.actor_id) ORDER BY e.id)
                          FROM certificate_status_event e WHERE e.certificate_id = c.id), '[]') AS history
         FROM certificate c JOIN card k ON k.id = c.card_id JOIN holder h ON h.id = k.holder_id
         LEFT JOIN certificate r ON r.id = c.renewed_from_id
        WHERE c.status NOT IN ('pending', 'abandoned')
          AND (($1::text IS NOT NULL AND ltrim(encode(c.serial, 'hex'), '0') = $1) OR ($2::text IS NOT NULL AND k.card_number = $2))
        ORDER BY c.created_at, c.kind DESC`,
      [serial ? serial.toLowerCase().replace(/^0+/, '') || '0' : null, cardNumber ?? null, this.clock.now()],
    );
    if (rows.length === 0) throw notFound('certificate-not-found', 'no certificate with this serial or card number');
    const seesNationalId = ROLES_SEEING_NATIONAL_ID.includes(request.principal!.role);
    return rows.map((row) => ({
      id: row.id,
      serial: row.serial,
      kind: row.kind,
      state: row.state,
      notBefore: row.not_before.toISOString(),
      notAfter: row.not_after.toISOString(),
      revokedAt: row.revoked_at?.toISOString() ?? null,
      reason: row.revocation_reason === null ? null : (crlReasonFromCode(row.revocation_reason) ?? String(row.revocation_reason)),
      cardNumber: row.card_number,
      holderNumber: row.holder_number,
      renewedFromSerial: row.renewed_from_serial,
      ...(seesNationalId ? { nationalId: maskedNationalId(row.national_id_last4) } : {}),
      history: row.history.map((h) => ({
        at: new Date(h.at).toISOString(),
        from: h.from,
        to: h.to,
        reason: h.reason === null ? null : (crlReasonFromCode(h.reason) ?? String(h.reason)),
        actorKind: h.actorKind,
        actorId: h.actorId,
      })),
    }));
  }
}

function badRequest(detail: string): ProblemException {
  return new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', detail);
}
