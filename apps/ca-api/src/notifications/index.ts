/**
 * Notices to holders (issue 8): what ca-api calls and what the worker runs.
 * docs/notices.md describes the rules, the catch-up rule, the templates and
 * the channels.
 */
export * from './notice-kinds';
export * from './queryable';
export * from './notification-channels';
export * from './smtp-email.channel';
export * from './sms-gateway.channel';
export * from './channels-from-config';
export * from './notice-templates';
export * from './enqueue-notice';
export * from './job-queue';
export * from './notice-scan.service';
export * from './notice-delivery.service';
export * from './notice-queue.service';
