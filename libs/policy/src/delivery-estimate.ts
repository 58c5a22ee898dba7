/**
 * When a re-issued card should arrive (leaflet 注意事項一: 完成繳費後，於台灣
 * 本島內寄送，約7個工作天收件，離島收件時間延後2-3天(限國內郵遞)): counted
 * in working days from the Taiwan day of payment; weekends and the
 * configured public holidays do not count, configured make-up working days
 * (補班) do. Domestic mail only: the address must have a Taiwan postal code
 * (3 digits, or 3+2 / 3+3). The outlying islands are recognised by the
 * first three digits (Chunghwa Post's 3-digit areas).
 */
import { allow, refuse, type Decision } from './decision';
import { formatCalendarDate, startOfTaiwanDay, taiwanCalendarDate, type CalendarDate } from './taiwan-time';

/** Working days to the main island (約7個工作天). */
export const MAIN_ISLAND_WORKING_DAYS = 7;
/** Extra working days to an outlying island (延後2-3天): earliest and latest. */
export const OUTLYING_EXTRA_WORKING_DAYS = { earliest: 2, latest: 3 } as const;

/** 3-digit postal areas of the outlying islands served by domestic mail. */
const OUTLYING_AREAS: Readonly<Record<string, string>> = {
  ...range(880, 885, 'Penghu'),
  ...range(890, 896, 'Kinmen'),
  ...range(209, 212, 'Matsu'),
  '951': 'Green Island',
  '952': 'Orchid Island',
  '929': 'Xiaoliuqiu',
};

/** Postal areas with no mail delivery to residents (Diaoyutai, Dongsha, Nansha). */
const UNDELIVERABLE_AREAS = new Set(['290', '817', '819']);

function range(first: number, last: number, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let code = first; code <= last; code++) out[String(code)] = name;
  return out;
}

/** Where a postal code lies, for delivery. */
export interface DeliveryArea {
  readonly postalCode: string;
  readonly region: 'main-island' | 'outlying-island';
  readonly island: string | null;
}

/** Checks a Taiwan postal code (domestic mail only) and says where it lies. */
export function deliveryArea(postalCode: string): Decision<{ area: DeliveryArea }> {
  const code = postalCode.trim();
  if (!/^\d{3}(\d{2}|\d{3})?$/.test(code)) {
    return refuse('postal-code-invalid', 'The postal code is not a Taiwan postal code (3, 5 or 6 digits): cards are mailed domestically only.');
  }
  const area = code.slice(0, 3);
  const number = Number(area);
  if (number < 100 || number > 983) return refuse('postal-code-invalid', 'No Taiwan postal area has this code: cards are mailed domestically only.');
  if (UNDELIVERABLE_AREAS.has(area)) return refuse('postal-code-not-deliverable', 'Mail is not delivered to this postal area.');
  const island = OUTLYING_AREAS[area] ?? null;
  const found: DeliveryArea = { postalCode: code, region: island ? 'outlying-island' : 'main-island', island };
  return allow({ area: found });
}

/** The calendar of working days: holidays off, make-up days on (YYYY-MM-DD, Taiwan dates). */
export interface WorkingCalendar {
  readonly holidays: ReadonlySet<string>;
  readonly makeUpWorkdays?: ReadonlySet<string>;
}

/** Whether a Taiwan calendar day is a working day. */
export function isWorkingDay(date: CalendarDate, calendar: WorkingCalendar): boolean {
  const key = formatCalendarDate(date);
  if (calendar.makeUpWorkdays?.has(key)) return true;
  if (calendar.holidays.has(key)) return false;
  const weekday = new Date(startOfTaiwanDay(date).getTime() + 8 * 3_600_000).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** The Taiwan day `count` working days after the day of `from` (the day itself does not count). */
export function addWorkingDays(from: Date, count: number, calendar: WorkingCalendar): CalendarDate {
  let date = taiwanCalendarDate(from);
  let left = count;
  while (left > 0) {
    date = nextDay(date);
    if (isWorkingDay(date, calendar)) left--;
  }
  return date;
}

function nextDay(date: CalendarDate): CalendarDate {
  return taiwanCalendarDate(new Date(startOfTaiwanDay(date).getTime() + 36 * 3_600_000));
}

/** The expected delivery window of a card paid at `paidAt` and mailed to `postalCode`. */
export function estimateDelivery(
  postalCode: string,
  paidAt: Date,
  calendar: WorkingCalendar,
): Decision<{ area: DeliveryArea; earliest: string; latest: string }> {
  const checked = deliveryArea(postalCode);
  if (!checked.allowed) return checked;
  const outlying = checked.area.region === 'outlying-island';
  const earliest = MAIN_ISLAND_WORKING_DAYS + (outlying ? OUTLYING_EXTRA_WORKING_DAYS.earliest : 0);
  const latest = MAIN_ISLAND_WORKING_DAYS + (outlying ? OUTLYING_EXTRA_WORKING_DAYS.latest : 0);
  return allow({
    area: checked.area,
    earliest: formatCalendarDate(addWorkingDays(paidAt, earliest, calendar)),
    latest: formatCalendarDate(addWorkingDays(paidAt, latest, calendar)),
  });
}
