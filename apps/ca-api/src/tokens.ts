/** Injection tokens of ca-api. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const KEY_OPENER = Symbol('KEY_OPENER');
export const NOTIFICATION_CHANNELS = Symbol('NOTIFICATION_CHANNELS');
