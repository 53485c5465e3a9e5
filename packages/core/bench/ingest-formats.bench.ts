/**
 * ingestPayload per payload shape, on one core: `npx tsx packages/core/bench/ingest-formats.bench.ts`.
 * Prints figures; asserts nothing. Event times sit inside the accept window, so every reading is accepted.
 */
import { performance } from 'node:perf_hooks';
import { ingestPayload } from '../src/index.ts';

const receivedAt = Date.now();
const topic = 'city/v1/airquality/aq-1/telemetry';
const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

const shapes: Array<[string, (i: number) => Buffer, number]> = [
  ['one JSON reading, 5 metrics', (i) => enc({ ts: receivedAt - 1000 - i, pm25: 20 + (i % 50), pm10: 80 + (i % 60), temperature: -12.5, relativeHumidity: 0.8 }), 1],
  ['JSON batch of 10 readings', (i) => enc(Array.from({ length: 10 }, (_, k) => ({ ts: receivedAt - 10_000 - i * 10 - k, pm25: 20 + k, pm10: 80 }))), 10],
  ['SenML pack, 5 records, 2 unit conversions', (i) => enc([
    { bn: 'urn:dev:mac:0024befffe804ff1:', bt: Math.floor(receivedAt / 1000) - 60 - (i % 1000), bu: 'ug/m3', n: 'pm25', v: 20 + (i % 50) },
    { n: 'pm10', v: 80 }, { n: 'co', v: 1200 }, { n: 'temperature', u: 'K', v: 260.65 }, { n: 'relativeHumidity', u: '%RH', v: 80 },
  ]), 1],
];

for (const [name, make, readingsEach] of shapes) {
  const bytes = Array.from({ length: 1000 }, (_, i) => make(i));
  const run = (n: number) => {
    let readings = 0;
    for (let i = 0; i < n; i++) {
      const out = ingestPayload({ topic, clientId: 'aq-1', receivedAt, payload: bytes[i % 1000]! });
      if (out.kind === 'ingest') readings += out.readings.length;
    }
    return readings;
  };
  run(20_000); // warm-up
  const n = 100_000;
  const start = performance.now();
  const readings = run(n);
  const s = (performance.now() - start) / 1000;
  if (readings !== n * readingsEach) throw new Error(`${name}: ${readings} readings accepted, expected ${n * readingsEach}`);
  console.log(`${name}: ${Math.round(n / s).toLocaleString('en')} messages/s (${((s / n) * 1e6).toFixed(2)} µs each)`);
}
