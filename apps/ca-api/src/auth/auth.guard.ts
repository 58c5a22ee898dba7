import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import type { StaffRole } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { apiTokenDigest, looksLikeApiToken } from './api-token';
import { StaffPrincipal } from './principal';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

export type AuthenticatedRequest = FastifyRequest & { principal?: StaffPrincipal };

/**
 * Authenticates every non-public call (Bearer API token of a staff member)
 * and authorises it by role. A route without @Roles or @Public is refused:
 * forgetting to declare who may call it cannot open it to everyone.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const roles = this.reflector.getAllAndOverride<StaffRole[] | undefined>(ROLES_KEY, targets);
    if (!roles || roles.length === 0) {
      throw new ProblemException('route-not-authorised', HttpStatus.FORBIDDEN, 'Forbidden', 'this route declares no role');
    }

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request.headers.authorization);
    if (!roles.includes(principal.role)) {
      throw new ProblemException(
        'role-not-allowed',
        HttpStatus.FORBIDDEN,
        'Forbidden',
        `role ${principal.role} may not do this (allowed: ${roles.join(', ')})`,
      );
    }
    request.principal = principal;
    return true;
  }

  private async authenticate(header: string | undefined): Promise<StaffPrincipal> {
    const match = /^Bearer (\S+)$/.exec(header ?? '');
    if (!match) throw unauthenticated('an Authorization: Bearer <API token> header is required');
    if (!looksLikeApiToken(match[1])) throw unauthenticated('the token is malformed');
    const rows: Array<{
      credential_id: string;
      staff_id: string;
      office_id: string | null;
      role: StaffRole;
      expires_at: Date | null;
      revoked_at: Date | null;
      staff_active: boolean;
      office_active: boolean | null;
    }> = await this.dataSource.query(
      `SELECT c.id AS credential_id, s.id AS staff_id, s.office_id, s.role, c.expires_at, c.revoked_at,
              s.active AS staff_active, o.active AS office_active
         FROM api_credential c
         JOIN staff_member s ON s.id = c.staff_id
         LEFT JOIN registration_office o ON o.id = s.office_id
        WHERE c.kind = 'token' AND c.secret_hash = $1`,
      [apiTokenDigest(match[1])],
    );
    const row = rows[0];
    const now = this.clock.now();
    if (!row) throw unauthenticated('unknown token');
    if (row.revoked_at) throw unauthenticated('the token was revoked');
    if (row.expires_at && row.expires_at <= now) throw unauthenticated('the token has expired');
    if (!row.staff_active) throw unauthenticated('the staff member is no longer active');
    if (row.office_id && row.office_active === false) throw unauthenticated('the office is no longer active');
    return { kind: 'staff', staffId: row.staff_id, officeId: row.office_id, role: row.role, credentialId: row.credential_id };
  }
}

function unauthenticated(detail: string): ProblemException {
  return new ProblemException('unauthenticated', HttpStatus.UNAUTHORIZED, 'Unauthorized', detail);
}
