import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { spawnNodeService, spawnService, type NodeService } from '../spawn-node-service.ts';

export interface SubscriberStatus {
  received: number;
  lines: number;
  written: number;
  dropped: number;
  badPayloads: number;
  writeErrors: number;
  buffered: number;
}

export interface Baseline {
  mqttPort: number;
  mosquitto: NodeService;
  subscriber: NodeService;
  /** The subscriber's latest status line. */
  status(): SubscriberStatus | undefined;
  stop(): Promise<void>;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * The baseline pipeline: Debian's Mosquitto on a free loopback port with a minimal config (anonymous, in-memory,
 * its defaults otherwise: `max_queued_messages 1000`, `max_inflight_messages 20` per client), and the plain
 * subscriber writing straight to InfluxDB.
 */
export async function startBaseline({ dir, mqttPort, influxUrl, db, subscriberQos = 1 }: { dir: string; mqttPort: number; influxUrl: string; db: string; subscriberQos?: 0 | 1 }): Promise<Baseline> {
  const config = path.join(dir, 'mosquitto.conf');
  await writeFile(config, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n`);
  const mosquitto = spawnService('mosquitto', { command: 'mosquitto', args: ['-c', config], env: {}, logFile: path.join(dir, 'mosquitto.log') });
  const deadline = Date.now() + 10_000;
  while (!(await portAnswers(mqttPort))) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${mqttPort} (is the Debian package mosquitto installed?)`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let last: SubscriberStatus | undefined;
  const subscriber = spawnNodeService('subscriber', {
    script: 'simulators/load/src/baseline/baseline-subscriber.ts',
    env: { MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`, INFLUX_URL: influxUrl, INFLUX_DB: db, QOS: String(subscriberQos) },
    logFile: path.join(dir, 'subscriber.log'),
    onStdout: (chunk) => {
      const line = chunk.toString().trim().split('\n').pop();
      try {
        if (line) last = JSON.parse(line) as SubscriberStatus;
      } catch {
        // a partial line: the next one will do
      }
    },
  });
  const ready = Date.now() + 15_000;
  while (last === undefined) {
    if (Date.now() > ready) throw new Error('the baseline subscriber did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    mqttPort,
    mosquitto,
    subscriber,
    status: () => last,
    async stop() {
      await subscriber.stop();
      await mosquitto.stop();
    },
  };
}
