import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import type { HolderRevocationGround, HouseholdEventKind } from '@moica/policy';

/** A delegate at the counter (DOMAIN.md 委託代辦): signed form, both ID cards, and maybe the holder's card. */
export class DelegationDto {
  @ApiProperty({ example: '陳大文' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  delegateName!: string;

  @ApiProperty({ description: "The delegate's national ID number (checked on the ID card; stored encrypted)" })
  @Matches(/^[A-Za-z][0-9A-Da-d][0-9]{8}$/, { message: 'delegateNationalId must be a letter and 9 characters' })
  delegateNationalId!: string;

  @ApiProperty({ description: 'Reference of the signed delegation form', example: 'DF-2026-000123' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  formReference!: string;

  @ApiProperty({ description: "Whether the delegate brought the holder's card" })
  @IsBoolean()
  holderCardPresented!: boolean;
}

/** Suspension or resumption at the counter: the holder in person, or a delegate. */
export class CounterStatusChangeDto {
  @ApiPropertyOptional({ type: DelegationDto, description: 'Absent when the holder is there in person' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DelegationDto)
  delegation?: DelegationDto;
}

export const REVOCATION_GROUNDS: HolderRevocationGround[] = [
  'lost-card',
  'key-compromise',
  'suspected-key-compromise',
  'identity-data-changed',
  'no-longer-needed',
  'replaced-by-new-card',
];

/** Revocation in person (DOMAIN.md: never by a delegate, final). */
export class RevocationDto extends CounterStatusChangeDto {
  @ApiProperty({ enum: REVOCATION_GROUNDS, description: 'Mapped to the RFC 5280 reason by the policy' })
  @IsIn(REVOCATION_GROUNDS)
  ground!: HolderRevocationGround;

  @ApiPropertyOptional({ description: 'When the key is known or suspected to have been compromised (CRL invalidityDate)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  invalidityDate?: string;
}

export const HOUSEHOLD_EVENT_KINDS: HouseholdEventKind[] = ['name-change', 'id-number-change', 'death', 'declaration-of-death', 'loss-of-nationality'];

/** An event reported by the household-registration system. */
export class HouseholdEventDto {
  @ApiProperty({ enum: HOUSEHOLD_EVENT_KINDS })
  @IsIn(HOUSEHOLD_EVENT_KINDS)
  kind!: HouseholdEventKind;

  @ApiProperty({ description: 'National ID number of the person (body only, never in the URL)' })
  @IsString()
  @MaxLength(20)
  nationalId!: string;

  @ApiProperty({ description: "The household-registration system's reference of the event", example: 'HR-2026-0001' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  eventReference!: string;
}

/** A court or prosecutor's order to suspend (or lift a suspension of) a card. */
export class CourtOrderDto {
  @ApiProperty({ example: 'TP0300000000001' })
  @Matches(/^[A-Z0-9]{8,20}$/)
  cardNumber!: string;

  @ApiProperty({ description: "The order's reference", example: '115年度聲字第123號' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  orderReference!: string;

  @ApiProperty({ example: '臺灣臺北地方法院' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  authority!: string;
}

/** The holder online: national ID + card number + user code (DOMAIN.md). */
export class OnlineUserCodeDto {
  @ApiProperty({ description: 'National ID number (body only, never in the URL)' })
  @IsString()
  @MaxLength(20)
  nationalId!: string;

  @ApiProperty({ example: 'TP0300000000001' })
  @Matches(/^[A-Z0-9]{8,20}$/)
  cardNumber!: string;

  @ApiProperty({ description: 'The user code (用戶代碼)' })
  @IsString()
  @MaxLength(64)
  userCode!: string;
}

export class LifecycleResultDto {
  @ApiProperty() cardNumber!: string;
  @ApiProperty({ enum: ['valid', 'suspended', 'revoked', 'on_hold'] }) status!: string;
  @ApiProperty({ description: 'The certificates changed: serial (hex), kind, new status' })
  certificates!: Array<{ serial: string; kind: string; status: string }>;
}
