import type { Aedes, Client } from 'aedes';
import type { Logger } from '@city/logger';
import { deviceTopic } from '@city/core';
import type { Principals } from './principals.ts';

/** The retained message on `city/v1/{family}/{deviceId}/status`. */
export interface DeviceStatus {
  status: 'online' | 'offline';
  /** ISO 8601 time of the change. */
  at: string;
}

/**
 * Keeps one retained status message per device: `online` when it connects, `offline` when its last connection
 * ends, however it ends. The broker publishes it, so it holds even for devices that set no last will; a device's
 * own will on its status topic is allowed too (the ACL permits it) and says the same. On a takeover Aedes closes
 * the old connection before it registers the new one [MQTT-3.1.4-2] (aedes.js `registerClient`), so `offline` is
 * always followed by `online` and the retained message ends right.
 */
export function attachDeviceStatus({ aedes, principals, logger, now }: { aedes: Aedes; principals: Principals; logger: Logger; now: () => number }): void {
  const publish = (client: Client, status: DeviceStatus['status']) => {
    const principal = principals.get(client)?.principal;
    if (principal?.kind !== 'device') return;
    const message: DeviceStatus = { status, at: new Date(now()).toISOString() };
    aedes.publish(
      { cmd: 'publish', topic: deviceTopic(principal.family, principal.deviceId, 'status'), payload: Buffer.from(JSON.stringify(message)), qos: 1, retain: true, dup: false },
      (err) => {
        if (err) logger.warn({ err: err.message, deviceId: principal.deviceId, status }, 'device status not published');
      },
    );
  };
  aedes.on('client', (client) => publish(client, 'online'));
  // Before `principals.forget` (broker-access.ts listens after us), while the client is still known.
  aedes.on('clientDisconnect', (client) => publish(client, 'offline'));
}
