import { SetMetadata } from '@nestjs/common';
import type { StaffRole } from '@moica/db';

export const ROLES_KEY = 'moica:roles';

/** The roles allowed to call a route. Every non-public route must say (the guard refuses routes that do not). */
export const Roles = (...roles: StaffRole[]) => SetMetadata(ROLES_KEY, roles);

export { Public, PUBLIC_KEY } from '@moica/platform';
