import { Controller, Get, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { crlReasonFromCode, derToPem } from '@moica/pki';
import { Clock, ProblemException, Public } from '@moica/platform';
import { notFound } from '../common/refusals';
import { ProblemResponses } from '../common/problem-responses';

export class PublicCertificateStatusDto {
  @ApiProperty() serial!: string;
  @ApiProperty({ enum: ['signature', 'encryption'] }) kind!: string;
  @ApiProperty({ enum: ['valid', 'suspended', 'revoked', 'expired', 'not-yet-valid', 'not-activated'] }) status!: string;
  @ApiProperty() notBefore!: string;
  @ApiProperty() notAfter!: string;
  @ApiPropertyOptional() revokedAt?: string;
  @ApiPropertyOptional({ description: 'RFC 5280 reason name' }) reason?: string;
  @ApiPropertyOptional({ description: "The certificate (PEM), only when the holder consented to publication" }) pem?: string;
}

interface Row {
  serial: Buffer;
  kind: string;
  status: string;
  not_before: Date;
  not_after: Date;
  revoked_at: Date | null;
  revocation_reason: number | null;
  der: Buffer;
  publication_consent: boolean;
}

/**
 * DOMAIN.md: anyone may look up a certificate's issuance status and validity.
 * The answer reveals nothing beyond what the certificate itself carries, and
 * the certificate itself only when its holder consented to publication.
 */
@ApiTags('public')
@Public()
@Controller('v1/public')
export class CertificateLookupController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  @Get('certificates/:serial')
  @ApiOperation({ summary: 'Status and validity of a certificate by serial number (hex)' })
  @ApiOkResponse({ type: PublicCertificateStatusDto })
  @ProblemResponses(400, 404)
  async bySerial(@Param('serial') serial: string): Promise<PublicCertificateStatusDto> {
    if (!/^[0-9a-fA-F]{1,42}$/.test(serial)) {
      throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'serial must be hexadecimal');
    }
    const hex = serial.toLowerCase().replace(/^0+/, '') || '0';
    const rows: Row[] = await this.dataSource.query(
      `${SELECT} WHERE ltrim(encode(c.serial, 'hex'), '0') = $1 AND c.status NOT IN ('pending', 'abandoned')`,
      [hex],
    );
    if (!rows[0]) throw notFound('certificate-not-found', 'no certificate with this serial number');
    return this.present(rows[0]);
  }

  @Get('cards/:cardNumber')
  @ApiOperation({ summary: 'Status of the certificates of a card' })
  @ApiOkResponse({ type: [PublicCertificateStatusDto] })
  @ProblemResponses(404)
  async byCard(@Param('cardNumber') cardNumber: string): Promise<PublicCertificateStatusDto[]> {
    const rows: Row[] = await this.dataSource.query(
      `${SELECT} WHERE k.card_number = $1 AND c.status NOT IN ('pending', 'abandoned') ORDER BY c.created_at, c.kind DESC`,
      [cardNumber],
    );
    if (rows.length === 0) throw notFound('card-not-found', 'no certificates for this card number');
    return rows.map((row) => this.present(row));
  }

  @Get('repository')
  @ApiOperation({ summary: 'The public repository: valid certificates of holders who consented to publication' })
  @ApiQuery({ name: 'after', required: false, description: 'serial (hex) to continue after' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ type: [PublicCertificateStatusDto] })
  async repository(@Query('after') after?: string, @Query('limit') limit?: string): Promise<PublicCertificateStatusDto[]> {
    const size = Math.min(Math.max(Number(limit) || 100, 1), 1000);
    const rows: Row[] = await this.dataSource.query(
      `${SELECT} WHERE h.publication_consent AND c.status = 'valid' AND c.not_after >= $1 AND c.serial > $2
        ORDER BY c.serial LIMIT $3`,
      [this.clock.now(), /^[0-9a-f]*$/i.test(after ?? '') ? Buffer.from(after ?? '', 'hex') : Buffer.alloc(0), size],
    );
    return rows.map((row) => this.present(row));
  }

  private present(row: Row): PublicCertificateStatusDto {
    const now = this.clock.now().getTime();
    let status: string = row.status;
    if (row.status === 'on_hold') status = 'not-activated';
    else if (row.status !== 'revoked' && row.not_after.getTime() < now) status = 'expired';
    else if (row.status !== 'revoked' && row.not_before.getTime() > now) status = 'not-yet-valid';
    return {
      serial: row.serial.toString('hex').replace(/^00/, ''),
      kind: row.kind,
      status,
      notBefore: row.not_before.toISOString(),
      notAfter: row.not_after.toISOString(),
      revokedAt: row.status === 'revoked' || row.status === 'suspended' ? row.revoked_at?.toISOString() : undefined,
      reason: row.status === 'revoked' || row.status === 'suspended' ? crlReasonFromCode(row.revocation_reason ?? 0) : undefined,
      pem: row.publication_consent ? derToPem(new Uint8Array(row.der), 'CERTIFICATE') : undefined,
    };
  }
}

const SELECT = `SELECT c.serial, c.kind, c.status, c.not_before, c.not_after, c.revoked_at, c.revocation_reason, c.der,
                       h.publication_consent
                  FROM certificate c JOIN card k ON k.id = c.card_id JOIN holder h ON h.id = k.holder_id`;
