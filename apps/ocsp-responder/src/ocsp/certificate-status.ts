import { crlReasonFromCode, type OcspCertStatus } from '@moica/pki';

/** The certificate columns that decide its OCSP status. */
export interface CertificateStatusColumns {
  status: string;
  revoked_at: Date | null;
  revocation_reason: number | null;
}

/**
 * A certificate's OCSP status from its row (DOMAIN.md, RFC 6960 §2.2):
 * valid is good; suspended and on_hold are revoked with certificateHold
 * (good again after resumption); revoked carries its time and reason;
 * pending and abandoned were never issued, so unknown (never good).
 */
export function ocspStatusOf(row: CertificateStatusColumns): OcspCertStatus {
  switch (row.status) {
    case 'valid':
      return { status: 'good' };
    case 'suspended':
    case 'on_hold':
    case 'revoked': {
      if (!row.revoked_at) return { status: 'unknown' };
      const reason = row.revocation_reason === null ? undefined : crlReasonFromCode(row.revocation_reason);
      return { status: 'revoked', revokedAt: row.revoked_at, reason: reason === 'unspecified' ? undefined : reason };
    }
    default:
      return { status: 'unknown' };
  }
}

/** Statuses that have an answer other than unknown, hence a pre-signed response. */
export const ANSWERED_STATUSES = ['valid', 'suspended', 'on_hold', 'revoked'] as const;
