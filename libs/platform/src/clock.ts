/**
 * The one source of time of the apps (STYLE.md: time is injected). libs take
 * `now` as a value; services ask the Clock. For tests and demos a fixed or
 * offset clock comes from FAKE_CLOCK (Boulder's FAKECLOCK is the model),
 * refused when NODE_ENV=production (see config.ts).
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock frozen at one instant, or shifted from real time by a fixed offset. */
export class FakeClock extends Clock {
  constructor(
    private readonly mode: { fixed: Date } | { offsetMs: number },
    private readonly realNow: () => number = () => Date.now(),
  ) {
    super();
  }

  now(): Date {
    return 'fixed' in this.mode ? new Date(this.mode.fixed.getTime()) : new Date(this.realNow() + this.mode.offsetMs);
  }
}

const OFFSET_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses FAKE_CLOCK: an ISO 8601 instant with a zone ("2031-01-15T00:00:00Z",
 * frozen) or a signed offset from real time ("+30d", "-12h", "+90m"). Returns
 * undefined for anything else.
 */
export function parseFakeClock(value: string): FakeClock | undefined {
  const offset = /^([+-])(\d{1,7})([smhd])$/.exec(value);
  if (offset) {
    const ms = Number(offset[2]) * OFFSET_UNITS[offset[3]] * (offset[1] === '-' ? -1 : 1);
    return new FakeClock({ offsetMs: ms });
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const fixed = new Date(value);
    if (!Number.isNaN(fixed.getTime())) return new FakeClock({ fixed });
  }
  return undefined;
}
