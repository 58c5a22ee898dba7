import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Equals, IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateNested } from 'class-validator';

/** The applicant as the clerk entered them from the ID card (DOMAIN.md: all mandatory). */
export class ApplicantDto {
  @ApiProperty({ example: '王小明', maxLength: 64 })
  @IsString()
  @MaxLength(200)
  name!: string;

  @ApiProperty({ description: 'National ID number. Personal data: kept encrypted, never in URLs or logs.', example: 'A123456789' })
  @IsString()
  @MaxLength(20)
  nationalId!: string;

  @ApiProperty({ description: 'Gregorian date of birth', example: '1990-05-17' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'dateOfBirth must be YYYY-MM-DD' })
  dateOfBirth!: string;

  @ApiProperty({ example: '0912345678' })
  @IsString()
  @MaxLength(30)
  mobile!: string;

  @ApiProperty({ example: 'wang@example.tw' })
  @IsString()
  @MaxLength(254)
  email!: string;
}

/** What the clerk attests at the counter. */
export class AttestationsDto {
  @ApiProperty({ description: 'The ID card was checked in person (application is in person only)', example: true })
  @Equals(true, { message: 'idCardCheckedInPerson must be true: applications are made in person' })
  idCardCheckedInPerson!: boolean;

  @ApiProperty({ example: true })
  @IsBoolean()
  householdRegistration!: boolean;

  @ApiProperty({ example: false })
  @IsBoolean()
  underGuardianship!: boolean;

  @ApiProperty({ description: 'Card fee paid at the counter, NT$', example: 250 })
  @IsInt()
  @Min(0)
  feePaidNtd!: number;
}

/** The two PKCS#10 requests the card generated (keys made on the card). */
export class CardRequestsDto {
  @ApiProperty({ description: 'PKCS#10 of the signature key, PEM or base64 DER' })
  @IsString()
  @MaxLength(20000)
  signature!: string;

  @ApiProperty({ description: 'PKCS#10 of the encryption key, PEM or base64 DER' })
  @IsString()
  @MaxLength(20000)
  encryption!: string;
}

export class ApplicationDto {
  @ApiProperty({ type: ApplicantDto })
  @ValidateNested()
  @Type(() => ApplicantDto)
  applicant!: ApplicantDto;

  @ApiProperty({ type: AttestationsDto })
  @ValidateNested()
  @Type(() => AttestationsDto)
  attestations!: AttestationsDto;

  @ApiProperty({ description: 'The user code (用戶代碼) the applicant chose: 6-10 printable ASCII. Stored only as a scrypt hash.' })
  @IsString()
  @MaxLength(64)
  userCode!: string;

  @ApiProperty({ example: 'TP0300000000001' })
  @Matches(/^[A-Z0-9]{8,20}$/, { message: 'cardNumber must be 8 to 20 upper-case letters or digits' })
  cardNumber!: string;

  @ApiPropertyOptional({ description: 'Publish the certificates in the public repository', default: false })
  @IsOptional()
  @IsBoolean()
  publicationConsent?: boolean;

  @ApiProperty({ type: CardRequestsDto })
  @ValidateNested()
  @Type(() => CardRequestsDto)
  csrs!: CardRequestsDto;
}

export class IssuedCertificateDto {
  @ApiProperty({ enum: ['signature', 'encryption'] }) kind!: string;
  @ApiProperty({ description: 'Serial number, hexadecimal' }) serial!: string;
  @ApiProperty() notBefore!: string;
  @ApiProperty() notAfter!: string;
  @ApiProperty({ enum: ['valid', 'on_hold'] }) status!: string;
  @ApiProperty({ description: 'The certificate, PEM' }) pem!: string;
}

export class ApplicationResultDto {
  @ApiProperty({ description: '16-digit holder number (the certificate subject serialNumber)' }) holderNumber!: string;
  @ApiProperty() cardNumber!: string;
  @ApiProperty({ description: 'First issuance of the card: anchor of the 5-year validity and the 8-year cap' }) cardIssuedAt!: string;
  @ApiProperty({ description: 'No certificate of this card is valid at or after this instant (issuedAt + 8 years)' }) cardCapAt!: string;
  @ApiProperty({ type: [IssuedCertificateDto] }) certificates!: IssuedCertificateDto[];
  @ApiProperty({ description: 'Issuing CA and parents, PEM, leaf-most first', type: [String] }) chain!: string[];
}
