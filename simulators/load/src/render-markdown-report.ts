import type { LoadReport, Percentiles } from './load-report.ts';

const n = (x: number | undefined) => (x === undefined ? '–' : x.toLocaleString('en-US'));
const ms = (x: number | undefined) => (x === undefined ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
const row = (cells: readonly (string | number | undefined)[]) => `| ${cells.map((c) => (c === undefined ? '–' : String(c))).join(' | ')} |`;
const pct = (p: Percentiles, label: string) => row([label, n(p.count), ms(p.p50), ms(p.p95), ms(p.p99), ms(p.max)]);

/** The report as Markdown: what ran, on what, the verdict, rates, latencies, the accounting, resources, profiles. Pure. */
export function renderMarkdownReport(r: LoadReport): string {
  const s = r.settings;
  const v = r.verification;
  const t = r.throughput;
  const out: string[] = [];
  out.push(`# Load run ${r.id}`, '');
  if (r.target === 'baseline') out.push('Target: **the baseline**, Mosquitto (Debian package, defaults) and a plain MQTT subscriber batch-writing to InfluxDB; its PUBACK means Mosquitto has the message in memory, not that it is stored.', '');
  out.push(
    `Scenario **${r.scenario.name}**${r.scenario.file ? ` (\`${r.scenario.file}\`)` : ''}${r.scenario.description ? `: ${r.scenario.description}` : ''}${r.label ? ` — ${r.label}` : ''}.`,
    `Started ${r.startedAt}${r.commit ? ` at commit ${r.commit}` : ''} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadAverageAtStart.join(' / ')} at the start, ${r.machine.loadAverageAtEnd.join(' / ')} at the end ` +
      '(load generator, broker, worker, Redis and InfluxDB all share this machine).',
    '',
  );
  out.push('## Verdict', '', v.ok ? '**PASS**: every acknowledged reading is stored, every injected fault is accounted for, every expected alert was raised.' : '**FAIL**:', '');
  for (const p of v.problems) out.push(`- ${p}`);
  if (r.notes.length > 0) out.push('', ...r.notes.map((note) => `- note: ${note}`));
  out.push('');

  out.push('## Settings', '', '| | |', '|---|---|');
  out.push(row(['rate', s.rate === 'max' ? 'closed loop: each device as fast as its in-flight window allows' : `${n(s.rate)} readings/s${s.rampS > 0 ? `, ramped from 5 % over ${s.rampS} s` : ''}`]));
  out.push(row(['duration', `${s.durationS} s (connecting ${r.connect.devices} devices took ${r.connect.seconds} s before that)`]));
  out.push(row(['devices', `${n(s.devices)}: ${Object.entries(s.devicesByFamily).map(([f, c]) => `${f} ${c}`).join(', ')}; from ${s.sourceAddresses} source addresses`]));
  out.push(row(['messages', `QoS ${s.qos}, in-flight window ${s.inFlightWindow}, readings per message ${s.readingsPerMessage.join(', ')}`]));
  out.push(row(['time', `${s.time.mode}: ${s.time.simStart} → ${s.time.simEnd}${s.time.speed !== undefined ? ` (×${s.time.speed})` : ''}`]));
  out.push(row(['alert rules', `\`${s.rules.file}\` (${s.rules.count})`]));
  out.push(row(['servers', `Redis ${s.servers.redis} (prefix ${s.servers.prefix}), InfluxDB ${s.servers.influxdb} (database ${s.servers.database})`]));
  out.push(row(['broker limits set', ['MAX_CONNECTIONS', 'PUBLISHES_PER_SECOND_PER_CLIENT', 'PUBLISH_BURST_PER_CLIENT', 'EVENT_TIME_MAX_AGE_MS', 'EVENT_TIME_LATE_AFTER_MS'].map((k) => `${k}=${s.brokerEnv[k] ?? '–'}`).join(', ')]));
  out.push('');

  out.push('## Throughput', '', '| readings per second | |', '|---|---:|');
  if (t.targetPerS !== undefined) out.push(row(['target', n(t.targetPerS)]));
  out.push(row([`sent (steady window ${t.steadyWindowS[0]}–${t.steadyWindowS[1]} s)`, n(t.sentPerS)]));
  out.push(row(['acknowledged (PUBACK after the durable enqueue)', n(t.ackedPerS)]));
  out.push(row(['stored in InfluxDB (worker)', n(t.storedPerS)]));
  out.push(row(['best 5 s of acknowledgements', n(t.peakAckedPerS)]));
  out.push(row(['end to end: points stored ÷ time to the last write', n(t.endToEndStoredPerS)]));
  out.push('', `The pipeline had drained ${t.drainS} s after the schedule ended.`, '');

  out.push('## Latency', '', '| ms | n | p50 | p95 | p99 | max |', '|---|---:|---:|---:|---:|---:|');
  out.push(pct(r.latency.puback, 'publish → PUBACK, whole run'));
  out.push(pct(r.latency.pubackSteady, 'publish → PUBACK, steady window'));
  out.push(pct(r.latency.publishToQueryable, `publish → queryable in InfluxDB (markers, polled every ${r.latency.markerPollMs} ms)`));
  out.push(pct(r.latency.lag, 'schedule lag (message due → published)'));
  if (r.latency.markersNotSeen > 0) out.push('', `${r.latency.markersNotSeen} marker readings were never seen in InfluxDB.`);
  out.push('');

  out.push('## Outcome', '', '| | |', '|---|---:|');
  const tot = r.totals;
  out.push(row(['messages published / acknowledged / retransmitted / in flight at the end', `${n(tot.messagesPublished)} / ${n(tot.messagesAcked)} / ${n(tot.messagesRetransmitted)} / ${n(tot.messagesUnackedAtEnd)}`]));
  out.push(row(['readings sent / acknowledged', `${n(tot.readingsSent)} / ${n(tot.readingsAcked)}`]));
  out.push(row(['points owed by acknowledged messages / stored', `${n(v.ackedPoints)} / ${n(v.storedPoints)}`]));
  out.push(row(['**lost** (acknowledged, not stored)', v.lost === undefined ? 'n/a (QoS 0)' : `**${n(v.lost)}**`]));
  out.push(row(['stored but unexplained', n(v.unexplainedPoints)]));
  out.push(row(['dead letters', n(tot.deadLetters)]));
  out.push(row(['late points expected / stored', `${n(v.late.expected)}${v.late.upTo > v.late.expected ? `–${n(v.late.upTo)}` : ''} / ${n(v.late.observed)}`]));
  out.push(row(['readings not taken: power out / device silent', `${n(tot.readingsDark)} / ${n(tot.readingsSilenced)}`]));
  out.push('');
  if (v.faults.length > 0) {
    out.push('Faults injected and where each shows:', '', '| fault | injected | acknowledged | outcome | accounted |', '|---|---:|---:|---|---|');
    for (const f of v.faults) out.push(row([f.fault, n(f.injected), n(f.acked), f.outcome, f.ok ? 'yes' : '**no**']));
    out.push('');
  }
  if (v.rejects.length > 0) {
    out.push('Dead letters by reason (the stream read back whole):', '', '| reason | owed | up to | in the stream | ok |', '|---|---:|---:|---:|---|');
    for (const c of v.rejects) out.push(row([c.reason, n(c.expected), n(c.upTo), n(c.observed), c.ok ? 'yes' : '**no**']));
    out.push('');
  }
  out.push(`Connections: CONNACK return codes ${Object.entries(tot.connacks).map(([k, c]) => `${k}: ${n(c)}`).join(', ') || '–'}; broker refusals ${Object.entries(tot.brokerRefusals).map(([k, c]) => `${k}: ${n(c)}`).join(', ') || 'none'}; throttled publishes ${n(tot.brokerThrottled)}.`, '');

  out.push('### Alerts', '');
  out.push(`${n(v.alerts.raised)} of the ${n(v.alerts.expected)} alerts the episodes and silent devices must raise were raised.`);
  for (const m of v.alerts.missing.slice(0, 10)) out.push(`- missing: ${m.rule} on ${m.device} (${m.because})`);
  for (const u of v.alerts.unchecked) out.push(`- not checked: ${u.rule} for ${u.because} (${u.devices} devices): ${u.why}`);
  const others = Object.entries(v.alerts.otherByRule).sort((a, b) => b[1] - a[1]);
  if (others.length > 0) out.push('', `Other alerts raised (devices per rule; the city's ordinary life and the injected faults): ${others.map(([k, c]) => `${k} ${c}`).join(', ')}.`);
  if (Object.keys(tot.alertTransitions).length > 0) out.push('', `Alert events seen: ${Object.entries(tot.alertTransitions).map(([k, c]) => `${k} ${n(c)}`).join(', ')}.`);
  out.push('');

  out.push('## Resources', '', '| process | CPU s (whole run, drain included) | cores, steady window | waiting for a CPU, steady window | peak RSS MiB |', '|---|---:|---:|---:|---:|');
  const res = r.resources;
  const c = res.steadyCores;
  const w = res.steadyRunWait;
  const waited = (x: number | undefined) => (x === undefined ? undefined : `${Math.round(x * 100)} %`);
  const [brokerName, workerName] = r.target === 'baseline' ? ['Mosquitto', 'subscriber'] : ['broker', 'worker'];
  if (res.broker) out.push(row([brokerName, res.broker.cpuS, c.broker, waited(w.broker), res.broker.peakRssMiB]));
  if (res.worker) out.push(row([workerName, res.worker.cpuS, c.worker, waited(w.worker), res.worker.peakRssMiB]));
  if (res.redis) out.push(row(['Redis', res.redis.cpuS, c.redis, undefined, undefined]));
  if (res.influxdb) out.push(row(['InfluxDB', res.influxdb.cpuS, c.influxdb, undefined, undefined]));
  out.push(row(['load generator', res.loadGenerator.cpuS, c.loadGenerator, waited(w.loadGenerator), res.loadGenerator.peakRssMiB]));
  out.push('', 'Waiting for a CPU: the share of the time the process (its main thread) was runnable while every core was busy (/proc/<pid>/schedstat); high values mean the machine, not the process, set the pace.');
  out.push('');
  if (res.redisMemory) out.push(`Redis used memory: ${res.redisMemory.startMiB} MiB at the start, ${res.redisMemory.peakMiB} MiB at the peak, ${res.redisMemory.endMiB} MiB at the end.`);
  if (res.pipelineCpuMsPer1000Readings !== undefined) out.push(`Broker + worker CPU: ${res.pipelineCpuMsPer1000Readings} ms per 1000 readings stored.`);
  out.push('');

  if (r.profiles) {
    out.push('## Where the time goes (node --cpu-prof, self time)', '');
    for (const [name, entries] of Object.entries(r.profiles)) {
      out.push(`**${name}**`, '', '| function | where | self % | self ms |', '|---|---|---:|---:|');
      for (const e of entries) out.push(row([`\`${e.function}\``, `\`${e.where}\``, e.selfPct, n(e.selfMs)]));
      out.push('');
    }
  }

  out.push('## Timeline', '', '![throughput and latency over time](chart.png)', '');
  out.push('| s | target | sent/s | acked/s | stored/s | queued jobs | PUBACK p50 | p99 ms | queryable p50 | max ms | lag ms | broker CPU % | broker waiting for CPU % | worker CPU % |', '|' + '---:|'.repeat(14));
  const every = Math.max(1, Math.ceil(r.timeline.length / 60));
  for (const x of r.timeline.filter((_, i) => i % every === 0)) {
    out.push(row([x.second, n(x.targetPerS), n(x.sentPerS), n(x.ackedPerS), n(x.storedPerS), n(x.queuedJobs), ms(x.pubackP50Ms), ms(x.pubackP99Ms), ms(x.queryableP50Ms), ms(x.queryableMaxMs), n(x.lagMs), x.brokerCpuPct, x.brokerWaitPct, x.workerCpuPct]));
  }
  out.push('');
  return out.join('\n');
}
