import { SetMetadata } from '@nestjs/common';

export const PUBLIC_KEY = 'moica:public';

/** A route anyone may call without credentials (health, OCSP, CRLs, public certificate look-ups). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
