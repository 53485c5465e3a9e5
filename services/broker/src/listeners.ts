import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { ConfigError } from '@city/config';
import type { BrokerConfig } from './config.ts';

/** Hands one client stream to the broker (`aedes.handle`, or whatever wraps it). */
export type ConnectionHandler = (stream: Duplex, request?: http.IncomingMessage) => unknown;

/**
 * `off`: no client certificates, devices log in with a token. `optional`: a client certificate signed by `ca` logs
 * its holder in without a password; clients without one use a token; a certificate from another CA is refused
 * (CONNACK 0x05). `required`: the TLS handshake itself fails without a certificate signed by `ca`.
 */
export type ClientCertMode = 'off' | 'optional' | 'required';

export interface TlsSettings {
  /** PEM: the server certificate (chain) and its key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM: the CA(s) client certificates must chain to. Required unless `clientCerts` is `off`. */
  ca?: string | Buffer;
  /** @defaultValue 'off' */
  clientCerts?: ClientCertMode;
}

export interface ListenerOptions {
  /** MQTT over TCP. */
  tcp?: { host: string; port: number };
  /** MQTT over TLS (8883 by convention). */
  tls?: { host: string; port: number } & TlsSettings;
  /** MQTT over WebSocket, for gateways and browsers; over TLS (`wss:`) when `tls` is given. */
  ws?: {
    host: string;
    port: number;
    /** @defaultValue '/mqtt' */
    path?: string;
    /**
     * Largest WebSocket message accepted; `ws` buffers a whole message before handing it on, so this bounds the
     * memory one frame can take.
     * @defaultValue 1 MiB
     */
    maxMessageBytes?: number;
    tls?: TlsSettings;
  };
  /** TLS handshakes that failed (an untrusted or missing client certificate with `required`, or not TLS at all). */
  onTlsClientError?: (err: Error) => void;
}

export interface Listeners {
  /** The URL of each listener that runs, e.g. `{ tcp: 'mqtt://127.0.0.1:1883', tls: 'mqtts://…', ws: 'ws://…/mqtt' }`. */
  urls: { tcp?: string; tls?: string; ws?: string };
  /** True while every listener accepts connections. */
  listening(): boolean;
  /** Stop accepting; established connections stay until the broker closes them. */
  stopAccepting(): void;
}

/** Handshakes that do not complete by then are dropped: a TLS port is not a place to park sockets. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

function tlsServerOptions(settings: TlsSettings): tls.TlsOptions {
  const clientCerts = settings.clientCerts ?? 'off';
  return {
    cert: settings.cert,
    key: settings.key,
    ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
    requestCert: clientCerts !== 'off',
    rejectUnauthorized: clientCerts === 'required',
    minVersion: 'TLSv1.2',
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  };
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

/**
 * Starts the MQTT listeners the options name, each handing its client streams to `handle`: TCP, TLS (optionally
 * mutual TLS: the broker's authenticate hook reads the verified certificate) and WebSocket (as in Aedes' example.js:
 * `createWebSocketStream` turns a WebSocket into the Duplex the broker reads). Port 0 picks a free port.
 */
export async function startListeners(handle: ConnectionHandler, options: ListenerOptions): Promise<Listeners> {
  const servers: net.Server[] = [];
  const urls: Listeners['urls'] = {};
  try {
    if (options.tcp) {
      const server = net.createServer((socket) => handle(socket));
      servers.push(server);
      urls.tcp = `mqtt://${hostForUrl(options.tcp.host)}:${await listen(server, options.tcp.host, options.tcp.port)}`;
    }
    if (options.tls) {
      const server = tls.createServer(tlsServerOptions(options.tls), (socket) => handle(socket));
      server.on('tlsClientError', (err) => options.onTlsClientError?.(err));
      servers.push(server);
      urls.tls = `mqtts://${hostForUrl(options.tls.host)}:${await listen(server, options.tls.host, options.tls.port)}`;
    }
    if (options.ws) {
      const { path = '/mqtt', maxMessageBytes = 1024 * 1024 } = options.ws;
      const server = options.ws.tls ? https.createServer(tlsServerOptions(options.ws.tls)) : http.createServer();
      if (options.ws.tls) server.on('tlsClientError', (err: Error) => options.onTlsClientError?.(err));
      const wss = new WebSocketServer({ server, path, maxPayload: maxMessageBytes });
      wss.on('connection', (socket, request) => handle(createWebSocketStream(socket), request));
      servers.push(server);
      const port = await listen(server, options.ws.host, options.ws.port);
      urls.ws = `${options.ws.tls ? 'wss' : 'ws'}://${hostForUrl(options.ws.host)}:${port}${path}`;
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }
  return {
    urls,
    listening: () => servers.every((server) => server.listening),
    stopAccepting() {
      for (const server of servers) server.close();
    },
  };
}

async function readPem(variable: string, path: string, problems: string[]): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    problems.push(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
}

/**
 * The listeners the broker's configuration asks for, with the certificate files read. TCP always; TLS when
 * `MQTT_TLS_CERT_FILE` and `MQTT_TLS_KEY_FILE` are set; WebSocket when `MQTT_WS_PORT` is set. An unreadable file
 * is a `ConfigError` naming the variable.
 */
export async function listenerOptionsFromConfig(config: BrokerConfig): Promise<ListenerOptions> {
  const options: ListenerOptions = { tcp: { host: config.MQTT_HOST, port: config.MQTT_PORT } };
  const problems: string[] = [];
  let tlsSettings: TlsSettings | undefined;
  if (config.MQTT_TLS_CERT_FILE && config.MQTT_TLS_KEY_FILE) {
    const [cert, key, ca] = await Promise.all([
      readPem('MQTT_TLS_CERT_FILE', config.MQTT_TLS_CERT_FILE, problems),
      readPem('MQTT_TLS_KEY_FILE', config.MQTT_TLS_KEY_FILE, problems),
      config.MQTT_TLS_CA_FILE ? readPem('MQTT_TLS_CA_FILE', config.MQTT_TLS_CA_FILE, problems) : undefined,
    ]);
    if (cert && key) tlsSettings = { cert, key, ...(ca ? { ca } : {}), clientCerts: config.MQTT_TLS_CLIENT_CERTS };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (tlsSettings) options.tls = { host: config.MQTT_TLS_HOST ?? config.MQTT_HOST, port: config.MQTT_TLS_PORT, ...tlsSettings };
  if (config.MQTT_WS_PORT !== undefined) {
    options.ws = {
      host: config.MQTT_WS_HOST ?? config.MQTT_HOST,
      port: config.MQTT_WS_PORT,
      path: config.MQTT_WS_PATH,
      // One WebSocket message carries one MQTT packet (what MQTT clients send): the largest packet the broker takes.
      // ws buffers a message whole, so this is also the memory one frame can take before the packet guard sees it.
      maxMessageBytes: config.MAX_PACKET_BYTES,
      ...(config.MQTT_WS_TLS ? { tls: tlsSettings! } : {}),
    };
  }
  return options;
}
