/** Kazakhstan has used one zone, UTC+5, since 2024-03-01 (Almaty and Astana alike). */
export const KZ_UTC_OFFSET_MINUTES = 300;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What the daily profiles need to know about an instant, in city local time. */
export interface CityTime {
  /** Local hour of day, fractional: 8.5 is 08:30. */
  hour: number;
  /** Local days since 1970-01-01: the same for every reading of one local day. */
  dayIndex: number;
  /** Saturday or Sunday, locally. */
  weekend: boolean;
}

export function cityTime(nowMs: number, utcOffsetMinutes: number): CityTime {
  const localMs = nowMs + utcOffsetMinutes * 60_000;
  const dayIndex = Math.floor(localMs / DAY_MS);
  const hour = (localMs - dayIndex * DAY_MS) / HOUR_MS;
  const weekday = (((dayIndex + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return { hour, dayIndex, weekend: weekday === 0 || weekday === 6 };
}

/** A bell-shaped peak of height 1 centred on `centreH`, wrapping round midnight. */
export function dailyBump(hour: number, centreH: number, widthH: number): number {
  let d = Math.abs(hour - centreH) % 24;
  if (d > 12) d = 24 - d;
  return Math.exp(-0.5 * (d / widthH) ** 2);
}
