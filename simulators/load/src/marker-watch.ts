import { FAMILY_SPECS, type Family } from '@city/schema';
import { ALWAYS_SENT_METRIC } from '@city/simulator';
import type { MarkerSent } from './create-load-fleet.ts';
import { influxQuery, quoteIdentifier, quoteString } from './influx-v1.ts';

export interface MarkerLatency {
  /** When it was published, ms since the run's schedule started. */
  atMs: number;
  /** Publish → first seen by a query, ms. */
  latencyMs: number;
}

export interface MarkerWatch {
  /** The fleet published a marker message. */
  sent(marker: MarkerSent): void;
  /** Stops polling once every marker is seen or `timeoutMs` passed; resolves with the markers never seen. */
  finish(timeoutMs: number): Promise<number>;
  readonly latencies: MarkerLatency[];
  pending(): number;
}

export interface MarkerWatchOptions {
  influxUrl: string;
  db: string;
  /** @defaultValue 100 */
  pollMs?: number;
  /** At most one marker per device this often, ms (closed-loop runs send far more). @defaultValue 100 */
  minSpacingMs?: number;
  /** ms since the schedule started, for the timeline. */
  elapsedMs: () => number;
}

/**
 * Publish → queryable: marker devices' messages are noted when published (device, event time, wall clock), and
 * InfluxDB is polled every `pollMs` for them with the query a dashboard would run. A marker's latency is the time
 * from its publish to the answer of the first query that returned it: an upper bound, by at most one poll
 * interval plus the query's own time. The markers are ordinary devices of the fleet, so their readings take the
 * same path as every other: broker, micro-batch, Redis, worker, InfluxDB.
 */
export function createMarkerWatch({ influxUrl, db, pollMs = 100, minSpacingMs = 100, elapsedMs }: MarkerWatchOptions): MarkerWatch {
  const pending = new Map<string, { family: Family; ts: number; sentAtMs: number; atMs: number }>();
  const lastTracked = new Map<string, number>();
  const latencies: MarkerLatency[] = [];
  let polling = false;
  let stopped = false;

  async function poll(): Promise<void> {
    if (polling || pending.size === 0) return;
    polling = true;
    try {
      const byFamily = new Map<Family, { devices: Set<string>; fromTs: number }>();
      for (const [key, m] of pending) {
        const device = key.slice(0, key.indexOf('|'));
        const entry = byFamily.get(m.family) ?? { devices: new Set<string>(), fromTs: Infinity };
        entry.devices.add(device);
        entry.fromTs = Math.min(entry.fromTs, m.ts);
        byFamily.set(m.family, entry);
      }
      const families = [...byFamily.keys()];
      const statements = families.map((family) => {
        const { devices, fromTs } = byFamily.get(family)!;
        const where = [...devices].map((d) => `"device" = ${quoteString(d)}`).join(' OR ');
        return `SELECT ${quoteIdentifier(ALWAYS_SENT_METRIC[family])} FROM ${quoteIdentifier(FAMILY_SPECS[family].measurement)} WHERE (${where}) AND time >= ${fromTs}ms GROUP BY "device"`;
      });
      const results = await influxQuery(influxUrl, db, statements.join('; '));
      const seenAt = Date.now();
      for (const rows of results) {
        for (const row of rows) {
          const key = `${String(row.device)}|${Number(row.time)}`;
          const m = pending.get(key);
          if (!m) continue;
          pending.delete(key);
          latencies.push({ atMs: m.atMs, latencyMs: seenAt - m.sentAtMs });
        }
      }
    } catch {
      // A slow or failed query only delays the markers it would have seen: the next poll finds them.
    } finally {
      polling = false;
    }
  }

  const timer = setInterval(() => void poll(), pollMs);
  return {
    latencies,
    pending: () => pending.size,
    sent(marker) {
      if (stopped) return;
      const last = lastTracked.get(marker.deviceId);
      if (last !== undefined && marker.sentAtMs - last < minSpacingMs) return;
      lastTracked.set(marker.deviceId, marker.sentAtMs);
      pending.set(`${marker.deviceId}|${marker.ts}`, { family: marker.family, ts: marker.ts, sentAtMs: marker.sentAtMs, atMs: elapsedMs() });
    },
    async finish(timeoutMs) {
      stopped = true;
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
      clearInterval(timer);
      while (polling) await new Promise((r) => setTimeout(r, 10));
      return pending.size;
    },
  };
}
