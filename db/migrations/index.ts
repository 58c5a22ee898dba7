import { InitialSchema1764345600000 } from './1764345600000-initial-schema';

/** Every migration, oldest first. A new migration is a new timestamped file added here. */
export const migrations = [InitialSchema1764345600000];
