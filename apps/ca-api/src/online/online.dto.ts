import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBase64, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { CardRequestsDto } from '../registration/application.dto';
import { DelegationDto } from '../lifecycle/lifecycle.dto';

export class ChallengeRequestDto {
  @ApiProperty({ example: 'TP0300000000001' })
  @Matches(/^[A-Z0-9]{8,20}$/)
  cardNumber!: string;

  @ApiProperty({ enum: ['renewal', 'add-email-to-certificate', 'user-code-reset', 'online-reissuance', 'activation'] })
  @IsIn(['renewal', 'add-email-to-certificate', 'user-code-reset', 'online-reissuance', 'activation'])
  purpose!: 'renewal' | 'add-email-to-certificate' | 'user-code-reset' | 'online-reissuance' | 'activation';
}

export class ChallengeDto {
  @ApiProperty() challengeId!: string;
  @ApiProperty({ description: '32 random bytes, base64: the card signs exactly these bytes' }) challenge!: string;
  @ApiProperty() expiresAt!: string;
}

/** The card's answer to a challenge. */
export class CardSignatureDto {
  @ApiProperty()
  @IsString()
  @MaxLength(64)
  challengeId!: string;

  @ApiProperty({
    description:
      "Signature of the challenge by the card's signature key, base64: a bare PKCS#1 v1.5 / ECDSA (SHA-256) signature, or a CMS SignedData (RFC 5652) as card middleware returns it",
  })
  @IsBase64()
  @MaxLength(20000)
  signature!: string;
}

export class OnlineRenewalDto {
  @ApiProperty({ type: CardSignatureDto })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;

  @ApiProperty({ type: CardRequestsDto, description: 'New PKCS#10 requests signed by the same card keys' })
  @ValidateNested()
  @Type(() => CardRequestsDto)
  csrs!: CardRequestsDto;
}

export class CounterRenewalDto {
  @ApiProperty({ type: CardRequestsDto, description: 'PKCS#10 requests made by the card (same keys)' })
  @ValidateNested()
  @Type(() => CardRequestsDto)
  csrs!: CardRequestsDto;

  @ApiPropertyOptional({ type: DelegationDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DelegationDto)
  delegation?: DelegationDto;
}

export class EmailInCertificateDto {
  @ApiProperty({ type: CardSignatureDto, description: 'The card signs a challenge with purpose add-email-to-certificate' })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;

  @ApiProperty({ example: 'wang@example.tw' })
  @IsString()
  @MaxLength(254)
  email!: string;
}

export class EmailInCertificateConfirmationDto {
  @ApiProperty()
  @IsString()
  @MaxLength(64)
  verificationId!: string;

  @ApiProperty({ description: 'The 6-digit code sent to the address' })
  @Matches(/^\d{6}$/)
  code!: string;

  @ApiProperty({ description: "A PKCS#10 request of the card's signature key (the same key)" })
  @IsString()
  @MaxLength(20000)
  csr!: string;
}
