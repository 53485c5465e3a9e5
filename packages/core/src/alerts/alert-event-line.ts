import type { AlertEvent } from '@city/schema';

const escapeKey = (s: string) => s.replace(/[,=\s]/g, (c) => `\\${c}`);
const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * One alert transition as a line of the `alerts` measurement, at the transition's time (ms). Tags are the things
 * one filters by; the transition is a tag too, so a raise and an escalation at the same instant do not overwrite
 * each other. Redelivery writes the same point again (same tags and time): idempotent.
 */
export function alertEventToLine(event: AlertEvent): string {
  let tags = `alerts,rule=${escapeKey(event.rule)},device=${escapeKey(event.device)},family=${event.family},severity=${event.severity},transition=${event.transition}`;
  if (event.district !== undefined) tags += `,district=${escapeKey(event.district)}`;
  const fields = [`alertId=${quote(event.alertId)}`, `seq=${event.seq}`, `state=${quote(event.state)}`, `silenced=${event.silenced}`, `flapping=${event.flapping}`];
  if (event.metric !== undefined) fields.push(`metric=${quote(event.metric)}`);
  if (event.value !== undefined) fields.push(`value=${event.value}`);
  if (event.threshold !== undefined) fields.push(`threshold=${event.threshold}`);
  const by = event.resolvedBy ?? (event.transition === 'acknowledged' ? event.acknowledgedBy : undefined);
  if (by !== undefined) fields.push(`by=${quote(by)}`);
  if (event.note !== undefined) fields.push(`note=${quote(event.note)}`);
  return `${tags} ${fields.join(',')} ${Date.parse(event.dateObserved)}`;
}
