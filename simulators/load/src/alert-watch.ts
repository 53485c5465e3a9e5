import mqtt from 'mqtt';

export interface AlertWatch {
  /** First `raised` per rule and device, as `rule|device`, with the wall-clock time it arrived. */
  readonly raised: Map<string, number>;
  readonly raisedByRule: Record<string, number>;
  /** Events seen, by transition. */
  readonly transitions: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Listens to the alert stream as an operator would (`city/v1/alerts/{severity}/{family}/{deviceId}`), and notes
 * which rule raised an alert on which device. The retained `…/active/…` topic holds the same events again: skipped.
 */
export async function watchAlerts(url: string, username: string, password: string, clientId: string): Promise<AlertWatch> {
  const client = await mqtt.connectAsync(url, { username, password, clientId, reconnectPeriod: 500, clean: true });
  const raised = new Map<string, number>();
  const raisedByRule: Record<string, number> = {};
  const transitions: Record<string, number> = {};
  client.on('message', (topic, payload) => {
    if (topic.split('/')[3] === 'active') return;
    try {
      const event = JSON.parse(payload.toString()) as { rule?: string; device?: string; transition?: string };
      if (event.transition) transitions[event.transition] = (transitions[event.transition] ?? 0) + 1;
      if (event.transition !== 'raised' || !event.rule || !event.device) return;
      const key = `${event.rule}|${event.device}`;
      if (raised.has(key)) return;
      raised.set(key, Date.now());
      raisedByRule[event.rule] = (raisedByRule[event.rule] ?? 0) + 1;
    } catch {
      // not an alert event
    }
  });
  await client.subscribeAsync('city/v1/alerts/+/+/+', { qos: 1 });
  return { raised, raisedByRule, transitions, close: () => client.endAsync(true) };
}
