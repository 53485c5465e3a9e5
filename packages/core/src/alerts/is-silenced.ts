import type { Silence } from '@city/schema';

const toMs = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t));

/** Is (rule, device, district) inside a silence at `now`? Every list a silence names must contain the value. */
export function isSilenced(silences: readonly Silence[], rule: string, device: string, district: string | undefined, now: number): boolean {
  return silences.some(
    (s) =>
      (s.from === undefined || toMs(s.from) <= now) &&
      now < toMs(s.until) &&
      (s.rules === undefined || s.rules.includes(rule)) &&
      (s.devices === undefined || s.devices.includes(device)) &&
      (s.districts === undefined || (district !== undefined && s.districts.includes(district))),
  );
}
