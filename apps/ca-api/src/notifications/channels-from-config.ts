import { ConfigurationError, type EnvironmentVariables } from '@moica/platform';
import { TransportNotificationChannels } from './notification-channels';
import { SmsGatewayChannel } from './sms-gateway.channel';
import { SmtpEmailChannel } from './smtp-email.channel';

type ChannelConfig = Pick<
  EnvironmentVariables,
  'NODE_ENV' | 'SMTP_URL' | 'SMTP_FROM' | 'SMS_GATEWAY_URL' | 'SMS_GATEWAY_USERNAME' | 'SMS_GATEWAY_PASSWORD'
>;

/**
 * The notification channels the configuration allows. In production both are
 * required (ConfigurationError naming what is missing); elsewhere a missing
 * channel is reported in `missing` and its notices stay pending, never
 * faked: the worker says so at start and does not take their jobs.
 */
export function notificationChannelsFromConfig(config: ChannelConfig): {
  channels: TransportNotificationChannels;
  missing: string[];
} {
  const problems: string[] = [];
  const missing: string[] = [];
  if (config.SMTP_URL && !config.SMTP_FROM) problems.push('SMTP_FROM is required with SMTP_URL');
  if (config.SMS_GATEWAY_URL && (!config.SMS_GATEWAY_USERNAME || !config.SMS_GATEWAY_PASSWORD)) {
    problems.push('SMS_GATEWAY_USERNAME and SMS_GATEWAY_PASSWORD are required with SMS_GATEWAY_URL');
  }
  if (!config.SMTP_URL) missing.push('SMTP_URL');
  if (!config.SMS_GATEWAY_URL) missing.push('SMS_GATEWAY_URL');
  if (config.NODE_ENV === 'production') {
    for (const name of missing) problems.push(`${name} is required when NODE_ENV=production (notices to holders)`);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const email = config.SMTP_URL ? new SmtpEmailChannel({ url: config.SMTP_URL, from: config.SMTP_FROM! }) : null;
  const sms = config.SMS_GATEWAY_URL
    ? new SmsGatewayChannel({
        url: config.SMS_GATEWAY_URL,
        username: config.SMS_GATEWAY_USERNAME!,
        password: config.SMS_GATEWAY_PASSWORD!,
      })
    : null;
  return { channels: new TransportNotificationChannels(email, sms), missing };
}
