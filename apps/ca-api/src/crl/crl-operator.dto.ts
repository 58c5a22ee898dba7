import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayNotEmpty, ArrayUnique, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MaxLength } from 'class-validator';
import type { CrlKind } from '../../../../db/crl-publication';

export const CRL_KIND_VALUES: CrlKind[] = ['complete', 'partition', 'delta'];

/** A publication schedule of one kind of CRL (docs/crl.md, "Schedules"). Exactly one of cron and intervalSeconds. */
export class CrlScheduleDto {
  @ApiPropertyOptional({ description: '5-field cron expression (minute hour day-of-month month day-of-week), read in cronTimeZone', example: '0 0 * * *' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cron?: string;

  @ApiPropertyOptional({ description: 'IANA time zone of the cron expression', default: 'Asia/Taipei' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cronTimeZone?: string;

  @ApiPropertyOptional({ description: 'Interval in seconds (at least 60), aligned to the Unix epoch: 3600 fires on the hour', example: 3600 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31 * 86_400)
  intervalSeconds?: number;

  @ApiProperty({
    description:
      'Validity of each CRL (nextUpdate - thisUpdate) in seconds; at least the period plus max(300 s, period/4), so that a failure is retried and alerted before relying parties hold an expired CRL',
    example: 129600,
  })
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(366 * 86_400)
  nextUpdateSeconds!: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class CrlScheduleViewDto {
  @ApiProperty({ enum: CRL_KIND_VALUES }) kind!: CrlKind;
  @ApiPropertyOptional({ nullable: true }) cron!: string | null;
  @ApiProperty() cronTimeZone!: string;
  @ApiPropertyOptional({ nullable: true }) intervalSeconds!: number | null;
  @ApiProperty() nextUpdateSeconds!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ description: 'The default schedule applies (no operator schedule stored yet)' }) isDefault!: boolean;
  @ApiPropertyOptional({ nullable: true }) updatedBy!: string | null;
}

/** "Publish now": the kinds to publish at once, each as its own publication. */
export class PublishNowDto {
  @ApiProperty({ enum: CRL_KIND_VALUES, isArray: true, example: ['complete', 'partition', 'delta'] })
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(CRL_KIND_VALUES, { each: true })
  kinds!: CrlKind[];
}

export class PublicationViewDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: CRL_KIND_VALUES }) kind!: CrlKind;
  @ApiProperty() slotAt!: string;
  @ApiProperty({ enum: ['schedule', 'manual', 'recovery'] }) trigger!: string;
  @ApiProperty({ enum: ['queued', 'failing', 'published'] }) state!: string;
  @ApiProperty() attempts!: number;
  @ApiPropertyOptional({ nullable: true }) lastError!: string | null;
  @ApiPropertyOptional({ nullable: true }) requestedBy!: string | null;
  @ApiProperty() requestedAt!: string;
  @ApiPropertyOptional({ nullable: true }) publishedAt!: string | null;
}

export class PublishNowResultDto {
  @ApiProperty({ type: [PublicationViewDto] }) publications!: PublicationViewDto[];
}

export class PublishedCrlQueryDto {
  @ApiPropertyOptional({ enum: CRL_KIND_VALUES })
  @IsOptional()
  @IsIn(CRL_KIND_VALUES)
  kind?: CrlKind;

  @ApiPropertyOptional({ description: 'Partition number (partition CRLs and their deltas); omit for all' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(4095)
  partition?: number;

  @ApiPropertyOptional({ description: 'Only CRLs numbered below this (paging backwards)' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  beforeNumber?: string;

  @ApiPropertyOptional({ default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class PublishedCrlViewDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'cRLNumber (decimal)' }) crlNumber!: string;
  @ApiProperty({ enum: CRL_KIND_VALUES }) kind!: CrlKind;
  @ApiPropertyOptional({ nullable: true }) partition!: number | null;
  @ApiPropertyOptional({ nullable: true, description: 'deltaCRLIndicator: the base CRL number' }) baseCrlNumber!: string | null;
  @ApiProperty() thisUpdate!: string;
  @ApiProperty() nextUpdate!: string;
  @ApiProperty() entryCount!: number;
  @ApiProperty() byteSize!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ description: 'Where relying parties fetch the current CRL of this scope' }) url!: string;
  @ApiPropertyOptional({ nullable: true }) publicationId!: string | null;
}
