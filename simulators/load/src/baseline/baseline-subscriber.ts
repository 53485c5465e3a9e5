/**
 * The baseline's storage side: what a user builds with Telegraf (mqtt_consumer → influxdb output) or a few lines of
 * mqtt.js — subscribe to every device's telemetry, turn each JSON reading into line protocol, write batches to
 * InfluxDB 1.x. No validation beyond JSON, no queue, no retries beyond a bounded in-memory buffer (Telegraf's
 * `metric_buffer_limit`): when InfluxDB is slower than the devices, the oldest lines are dropped and counted.
 *
 * Environment: MQTT_URL, INFLUX_URL, INFLUX_DB, QOS (1), BATCH_LINES (5000), FLUSH_MS (1000), BUFFER_LIMIT (100000).
 * Prints a JSON status line every second: {received, lines, written, dropped, badPayloads, writeErrors, buffered}.
 */
import mqtt from 'mqtt';
import { FAMILY_SPECS, isFamily } from '@city/schema';

const env = process.env;
const db = env.INFLUX_DB ?? 'baseline';
const writeUrl = `${env.INFLUX_URL ?? 'http://127.0.0.1:8086'}/write?db=${encodeURIComponent(db)}&precision=ms`;
const batchLines = Number(env.BATCH_LINES ?? 5000);
const flushMs = Number(env.FLUSH_MS ?? 1000);
const bufferLimit = Number(env.BUFFER_LIMIT ?? 100_000);
const status = { received: 0, lines: 0, written: 0, dropped: 0, badPayloads: 0, writeErrors: 0, buffered: 0 };
let buffer: string[] = [];
let writing = false;

const escapeTag = (s: string) => s.replace(/[,= ]/g, (c) => `\\${c}`);

function toLine(measurement: string, family: string, device: string, reading: Record<string, unknown>): string | undefined {
  let fields = '';
  for (const [key, value] of Object.entries(reading)) {
    if (key === 'ts' || key === 'district') continue;
    if (typeof value === 'number' && Number.isFinite(value)) fields += `${fields ? ',' : ''}${escapeTag(key)}=${value}`;
    else if (typeof value === 'boolean') fields += `${fields ? ',' : ''}${escapeTag(key)}=${value}`;
  }
  if (!fields) return undefined;
  const ts = typeof reading.ts === 'number' ? reading.ts : typeof reading.ts === 'string' ? Date.parse(reading.ts) : Date.now();
  const district = typeof reading.district === 'string' ? `,district=${escapeTag(reading.district)}` : '';
  return `${measurement},device=${escapeTag(device)},family=${family}${district} ${fields} ${Number.isFinite(ts) ? Math.round(ts) : Date.now()}`;
}

async function flush(): Promise<void> {
  if (writing || buffer.length === 0) return;
  writing = true;
  const lines = buffer.slice(0, batchLines);
  try {
    const response = await fetch(writeUrl, { method: 'POST', body: lines.join('\n'), signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    if (response.status === 204 || response.status === 400) {
      // 400: a partial write kept the valid lines (Influx 1.x); nothing more a plain subscriber can do.
      buffer = buffer.slice(lines.length);
      status.written += lines.length;
    } else status.writeErrors++;
  } catch {
    status.writeErrors++;
  } finally {
    writing = false;
    status.buffered = buffer.length;
  }
  if (buffer.length >= batchLines) void flush();
}

const client = mqtt.connect(env.MQTT_URL ?? 'mqtt://127.0.0.1:1883', { clientId: `baseline-subscriber-${process.pid}`, clean: true, reconnectPeriod: 500 });
client.on('connect', () => void client.subscribeAsync('city/v1/+/+/telemetry', { qos: Number(env.QOS ?? 1) as 0 | 1 }));
client.on('message', (topic, payload) => {
  status.received++;
  const [, , family, device] = topic.split('/');
  if (!family || !device || !isFamily(family)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString());
  } catch {
    status.badPayloads++;
    return;
  }
  const readings = Array.isArray(parsed) ? parsed : [parsed];
  const measurement = FAMILY_SPECS[family].measurement;
  for (const r of readings) {
    if (r === null || typeof r !== 'object') continue;
    const line = toLine(measurement, family, device, r as Record<string, unknown>);
    if (line === undefined) continue;
    buffer.push(line);
    status.lines++;
  }
  if (buffer.length > bufferLimit) {
    status.dropped += buffer.length - bufferLimit;
    buffer = buffer.slice(buffer.length - bufferLimit);
  }
  if (buffer.length >= batchLines) void flush();
});
setInterval(() => void flush(), flushMs);
setInterval(() => process.stdout.write(`${JSON.stringify({ ...status, buffered: buffer.length })}\n`), 1000);
process.once('SIGTERM', () => {
  void (async () => {
    while (buffer.length > 0 && status.writeErrors < 100) {
      await flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    await client.endAsync();
    process.exit(0);
  })();
});
