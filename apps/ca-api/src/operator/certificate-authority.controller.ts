import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Roles } from '../auth/roles.decorator';

/** Operators: the CAs, their key locations (never keys) and OCSP signers. */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/cas')
export class CertificateAuthorityController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'List CAs, key locations and OCSP signers' })
  @ApiOkResponse({ description: 'CAs with their OCSP signers' })
  async list(): Promise<unknown[]> {
    return this.dataSource.query(
      `SELECT ca.id, ca.name, ca.role, ca.subject_dn AS "subject", ca.key_location AS "keyLocation", ca.key_algorithm AS "keyAlgorithm",
              ca.not_before AS "notBefore", ca.not_after AS "notAfter", ca.active, ca.development, ca.crl_partitions AS "crlPartitions",
              coalesce(json_agg(json_build_object('id', s.id, 'keyLocation', s.key_location, 'keyAlgorithm', s.key_algorithm,
                                'notBefore', s.not_before, 'notAfter', s.not_after, 'active', s.active) ORDER BY s.created_at)
                       FILTER (WHERE s.id IS NOT NULL), '[]') AS "ocspSigners"
         FROM certificate_authority ca LEFT JOIN ocsp_signer s ON s.ca_id = ca.id
        GROUP BY ca.id ORDER BY ca.created_at`,
    );
  }
}
