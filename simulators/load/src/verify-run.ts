import type { ReasonCode } from '@city/schema';
import type { MessageFault } from '@city/simulator';
import type { ExpectedAlert, UncheckedExpectation } from './expected-alerts.ts';
import type { FleetLedger, Tally } from './fleet-ledger.ts';

/** What the pipeline really did, read back from InfluxDB, the dead-letter stream and the broker's counters. */
export interface ObservedOutcome {
  /** Points in InfluxDB, per device id. */
  storedByDevice: ReadonlyMap<string, number>;
  /** Points marked `late=true`. */
  storedLate: number;
  /** Entries in the dead-letter stream, by reason. */
  deadLetters: Tally<ReasonCode>;
  /** `city_broker_auth_failures_total` by reason, over the run. */
  authFailures: Record<string, number>;
  /** Telemetry jobs that failed for good (their readings are not stored). */
  failedJobs: number;
  /** Alerts raised (first `raised` event per rule and device), as `rule|device`. */
  raised: ReadonlySet<string>;
  /** Every raised alert by rule, for the report. */
  raisedByRule: Record<string, number>;
}

export interface ReasonCheck {
  reason: string;
  /** Owed by acknowledged messages. */
  expected: number;
  /** Possibly more: in flight at the end, or dead-lettered twice after a retransmission. */
  upTo: number;
  observed: number;
  ok: boolean;
}

export interface FaultRow {
  fault: MessageFault | 'stuckSensors' | 'driftingSensors' | 'silentDevices' | 'reconnectStorms' | 'wrongCredentials';
  injected: number;
  acked: number;
  /** Where it shows, and whether it did. */
  outcome: string;
  ok: boolean;
}

export interface Verification {
  ok: boolean;
  problems: string[];
  /** Acknowledged readings that should be stored (points), and those stored, from the devices' side. */
  ackedPoints: number;
  storedPoints: number;
  /** Σ over devices of acknowledged − stored, where positive: must be 0. Undefined at QoS 0 (nothing is acknowledged). */
  lost: number | undefined;
  /** Σ over devices of stored beyond acknowledged + in flight: points nothing explains. */
  unexplainedPoints: number;
  devicesWithLoss: Array<{ device: string; acked: number; stored: number }>;
  late: { expected: number; upTo: number; observed: number; ok: boolean };
  rejects: ReasonCheck[];
  faults: FaultRow[];
  alerts: {
    expected: number;
    raised: number;
    missing: ExpectedAlert[];
    unchecked: UncheckedExpectation[];
    /** Raised alerts no expectation names, by rule (the city's normal life: Almaty's winter air, busy roads…). */
    otherByRule: Record<string, number>;
  };
}

const FAULT_REASONS: Partial<Record<MessageFault, readonly ReasonCode[]>> = {
  malformedJson: ['invalid_json'],
  schemaViolation: ['invalid_type', 'unknown_field', 'no_metrics'],
  outOfRange: ['out_of_range'],
  clockSkew: ['timestamp_in_future', 'timestamp_too_old', 'invalid_timestamp'],
  oversize: ['payload_too_large'],
};

export interface VerifyInput {
  ledger: FleetLedger;
  deviceIds: readonly string[];
  qos: 0 | 1;
  observed: ObservedOutcome;
  expectedAlerts: readonly ExpectedAlert[];
  unchecked: readonly UncheckedExpectation[];
  /** Device-level faults as built into the fleet. */
  troubled: { stuck: number; drifting: number; silent: number };
}

/**
 * Checks a run's outcome against its ledger: nothing acknowledged is missing from InfluxDB (per device: stored ≥
 * acknowledged), nothing is stored that was not sent, each dead-letter reason has exactly the entries the injected
 * faults owe (within what was in flight at the end), late points are marked, wrong tokens were refused, and every
 * alert the episodes and silent devices must raise was raised. Pure.
 */
export function verifyRun({ ledger, deviceIds, qos, observed, expectedAlerts, unchecked, troubled }: VerifyInput): Verification {
  const problems: string[] = [];
  let ackedPoints = 0;
  let storedPoints = 0;
  let lostSum = 0;
  let unexplained = 0;
  const devicesWithLoss: Verification['devicesWithLoss'] = [];
  deviceIds.forEach((device, i) => {
    const acked = qos === 1 ? ledger.ackedStoredByDevice[i]! : 0;
    const upper = acked + ledger.unackedStoredByDevice[i]!;
    const stored = observed.storedByDevice.get(device) ?? 0;
    ackedPoints += acked;
    storedPoints += stored;
    if (stored < acked) {
      lostSum += acked - stored;
      devicesWithLoss.push({ device, acked, stored });
    }
    if (qos === 1 && stored > upper) unexplained += stored - upper;
  });
  const lost = qos === 1 ? lostSum : undefined;
  if (lost !== undefined && lost > 0) problems.push(`${lost} acknowledged readings are not in InfluxDB (${devicesWithLoss.length} devices)`);
  if (unexplained > 0) problems.push(`${unexplained} points in InfluxDB that no sent reading explains`);
  if (observed.failedJobs > 0) problems.push(`${observed.failedJobs} telemetry jobs failed for good`);

  const late = { expected: ledger.ackedLate, upTo: ledger.ackedLate + ledger.unackedLate, observed: observed.storedLate, ok: true };
  late.ok = qos === 0 ? observed.storedLate <= late.upTo : observed.storedLate >= late.expected && observed.storedLate <= late.upTo;
  if (!late.ok) problems.push(`late points: expected ${late.expected}${late.upTo > late.expected ? `–${late.upTo}` : ''}, InfluxDB has ${observed.storedLate}`);

  const reasons = new Set<string>([...Object.keys(ledger.ackedRejects), ...Object.keys(ledger.extraRejectsPossible), ...Object.keys(observed.deadLetters)]);
  const rejects: ReasonCheck[] = [...reasons].sort().map((reason) => {
    const r = reason as ReasonCode;
    const expected = qos === 1 ? (ledger.ackedRejects[r] ?? 0) : 0;
    const upTo = (ledger.ackedRejects[r] ?? 0) + (ledger.extraRejectsPossible[r] ?? 0);
    const observedCount = observed.deadLetters[r] ?? 0;
    const ok = observedCount >= expected && observedCount <= upTo;
    if (!ok) problems.push(`dead letters "${reason}": expected ${expected}${upTo > expected ? `–${upTo}` : ''}, the stream has ${observedCount}`);
    return { reason, expected, upTo, observed: observedCount, ok };
  });
  const reasonOk = (list: readonly ReasonCode[]) => rejects.filter((c) => list.includes(c.reason as ReasonCode)).every((c) => c.ok);

  const faults: FaultRow[] = [];
  const injected = ledger.faults.injected;
  const acked = ledger.faults.acked;
  const lostOk = lost === undefined || lost === 0;
  for (const fault of Object.keys(injected) as MessageFault[]) {
    const list = FAULT_REASONS[fault];
    let outcome: string;
    let ok: boolean;
    if (list) {
      outcome = `dead letters ${list.join(' / ')}${fault === 'clockSkew' ? ' (or stored, when inside the window)' : ''}`;
      ok = reasonOk(list);
    } else if (fault === 'late') {
      outcome = 'stored, marked late=true';
      ok = late.ok && lostOk;
    } else {
      outcome = fault === 'duplicate' ? 'stored once (no extra points)' : 'stored (its point counted per device)';
      ok = lostOk && unexplained === 0;
    }
    faults.push({ fault, injected: injected[fault] ?? 0, acked: acked[fault] ?? 0, outcome, ok });
  }
  if (troubled.stuck > 0) faults.push({ fault: 'stuckSensors', injected: troubled.stuck, acked: troubled.stuck, outcome: 'stored as sent (valid, wrong)', ok: lostOk });
  if (troubled.drifting > 0) faults.push({ fault: 'driftingSensors', injected: troubled.drifting, acked: troubled.drifting, outcome: 'stored as sent (valid, wrong)', ok: lostOk });
  const silentExpected = expectedAlerts.filter((a) => a.because === 'silent devices');
  if (troubled.silent > 0) {
    const missed = silentExpected.filter((a) => !observed.raised.has(`${a.rule}|${a.device}`)).length;
    faults.push({ fault: 'silentDevices', injected: troubled.silent, acked: troubled.silent, outcome: `deadman alerts: ${silentExpected.length - missed}/${silentExpected.length} raised`, ok: missed === 0 });
  }
  if (ledger.connections.storms > 0) {
    faults.push({ fault: 'reconnectStorms', injected: ledger.connections.storms, acked: ledger.connections.stormDrops, outcome: `${ledger.connections.stormDrops} connections dropped, ${ledger.messages.retransmitted} messages resent; nothing lost`, ok: lostOk });
  }
  const wrong = ledger.connections.wrongCredentialAttempts;
  if (wrong > 0) {
    const refused = observed.authFailures.bad_token ?? 0;
    const ok = refused === wrong;
    faults.push({ fault: 'wrongCredentials', injected: wrong, acked: ledger.connections.connacks['4'] ?? 0, outcome: `broker refused ${refused} (auth_failures bad_token)`, ok });
    if (!ok) problems.push(`wrong credentials: ${wrong} attempts, the broker counted ${refused} bad_token refusals`);
  }

  const missing = expectedAlerts.filter((a) => !observed.raised.has(`${a.rule}|${a.device}`));
  if (missing.length > 0) {
    const byRule = new Map<string, number>();
    for (const m of missing) byRule.set(`${m.rule} (${m.because})`, (byRule.get(`${m.rule} (${m.because})`) ?? 0) + 1);
    problems.push(`alerts not raised: ${[...byRule].map(([k, v]) => `${k} on ${v} devices`).join('; ')}`);
  }
  const expectedKeys = new Set(expectedAlerts.map((a) => `${a.rule}|${a.device}`));
  const otherByRule: Record<string, number> = {};
  for (const key of observed.raised) {
    if (expectedKeys.has(key)) continue;
    const rule = key.slice(0, key.indexOf('|'));
    otherByRule[rule] = (otherByRule[rule] ?? 0) + 1;
  }

  return {
    ok: problems.length === 0,
    problems,
    ackedPoints,
    storedPoints,
    lost,
    unexplainedPoints: unexplained,
    devicesWithLoss: devicesWithLoss.slice(0, 20),
    late,
    rejects,
    faults,
    alerts: { expected: expectedAlerts.length, raised: expectedAlerts.length - missing.length, missing: missing.slice(0, 50), unchecked: [...unchecked], otherByRule },
  };
}
