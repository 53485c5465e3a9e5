import type { AlertEvent, AlertRule, Reading } from '@city/schema';

/**
 * Which rules a batch of readings crosses. Stateless: one event per reading that is over (or under) a
 * rule's threshold. The alert engine (issue 5) replaces this with a stateful one behind the same seam.
 */
export function evaluateThresholds(rules: readonly AlertRule[], readings: readonly Reading[]): AlertEvent[] {
  const events: AlertEvent[] = [];
  for (const reading of readings) {
    for (const rule of rules) {
      if (rule.family !== reading.family) continue;
      const value = reading.metrics[rule.metric];
      if (typeof value !== 'number') continue;
      const crossed = rule.comparison === 'above' ? value > rule.threshold : value < rule.threshold;
      if (!crossed) continue;
      const event: AlertEvent = {
        id: `${rule.id}:${reading.deviceId}:${reading.ts}`,
        rule: rule.id,
        severity: rule.severity,
        family: reading.family,
        device: reading.deviceId,
        metric: rule.metric,
        value,
        threshold: rule.threshold,
        comparison: rule.comparison,
        eventTime: new Date(reading.ts).toISOString(),
      };
      if (reading.district !== undefined) event.district = reading.district;
      if (rule.description !== undefined) event.description = rule.description;
      events.push(event);
    }
  }
  return events;
}
