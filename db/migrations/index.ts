import { readdirSync } from 'node:fs';
import type { MigrationInterface } from 'typeorm';

type MigrationClass = new () => MigrationInterface;

/**
 * Every migration, oldest first: each file in this folder named
 * `<13-digit timestamp>-<name>.ts` exports one migration class. Adding a
 * migration is adding a file; nothing else to edit.
 */
export const migrations: MigrationClass[] = readdirSync(__dirname)
  .filter((file) => /^\d{13}-[a-z0-9-]+\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
  .sort()
  .map((file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(`./${file}`) as Record<string, unknown>;
    const classes = Object.values(exported).filter((value): value is MigrationClass => typeof value === 'function');
    if (classes.length !== 1) throw new Error(`migration file ${file} must export exactly one class`);
    return classes[0];
  });
