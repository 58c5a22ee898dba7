import { Provider } from '@nestjs/common';
import { CertificateHistoryController } from './certificate-history.controller';
import { ConsoleAssetsController } from './console-assets.controller';
import { JobRetryController } from './job-retry.controller';
import { OperatorOverviewController } from './operator-overview.controller';
import { OperatorOverviewRepository } from './operator-overview.repository';

/**
 * The operator console (issue 10, docs/console.md): its static files at
 * /console and the read endpoints it needs beyond the existing operator API
 * (session, overview, certificate history) plus the retry of a failed job.
 * CaApiModule lists these flat next to its others; the overview reads CRL
 * health through CrlOperatorRepository (CRL_OPERATOR_PROVIDERS).
 */
export const CONSOLE_CONTROLLERS = [ConsoleAssetsController, OperatorOverviewController, CertificateHistoryController, JobRetryController];
export const CONSOLE_PROVIDERS: Provider[] = [OperatorOverviewRepository];
