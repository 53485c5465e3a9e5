/**
 * A child process of `pnpm load idle`: holds idle, authenticated device connections open (a process may hold at most
 * its file-descriptor limit of sockets, so several of these share a large count). Reads its devices from the JSON
 * file named by HOLD_SPEC: `{ host, port, devices: [{ id, token, address }] }`. Prints `connected <n>` as connections
 * come up and `refused <rc>` for a refused one; exits on SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { DeviceConnection, type ConnectionHandler } from './device-connection.ts';

interface HoldSpec {
  host: string;
  port: number;
  perSecond: number;
  devices: Array<{ id: string; token: string; address: string }>;
}

const spec = JSON.parse(await readFile(process.env.HOLD_SPEC ?? '', 'utf8')) as HoldSpec;
let connected = 0;
const handler: ConnectionHandler<never> = {
  onConnack(connection, rc) {
    if (rc === 0) connected++;
    else process.stdout.write(`refused ${rc}\n`);
  },
  onPuback() {},
  onClose(connection, wasConnected) {
    if (wasConnected) connected--;
    setTimeout(() => connection.connect(), 1000 + Math.random() * 1000);
  },
};
const connections = spec.devices.map(
  (d, i) => new DeviceConnection<never>({ host: spec.host, port: spec.port, localAddress: d.address, clientId: d.id, username: d.id, password: d.token, keepaliveS: 120 }, handler, i),
);
let next = 0;
const pace = setInterval(() => {
  for (let k = 0; k < spec.perSecond / 20 && next < connections.length; k++) connections[next++]!.connect();
}, 50);
let reported = -1;
setInterval(() => {
  if (connected !== reported) process.stdout.write(`connected ${connected}\n`);
  reported = connected;
  if (next >= connections.length) clearInterval(pace);
  for (const c of connections) if (c.connected && performance.now() - c.lastSentAt > 50_000) c.ping();
}, 500);
process.once('SIGTERM', () => {
  void Promise.all(connections.map((c) => c.end())).then(() => process.exit(0));
});
