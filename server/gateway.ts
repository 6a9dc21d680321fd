import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { GatewayConfig } from './config/config';
import { DisnixBus } from './dbus/bus-connection';
import { JobRelay } from './dbus/job-relay';
import type { Logger } from './logger';

export interface Gateway {
  /** The service URL as reachable on the listening address. */
  readonly url: string;
  readonly server: Server;
  readonly bus: DisnixBus;
  readonly relay: JobRelay;
  /** Stops accepting calls, lets calls in flight end within `graceMs`, then disconnects. */
  close(graceMs?: number): Promise<void>;
}

export async function startGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  const bus = new DisnixBus(config.bus.address, logger);
  const relay = new JobRelay(bus, logger);
  const app = await createApp({ config, relay, logger });

  // Not a start-up condition: the daemon or the bus may come later, and each call connects.
  void bus.isDaemonReady().then((ready) => {
    if (!ready) logger.warn('disnix-service is not on the bus yet; calls fail until it is', { bus: config.bus.address });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
    listening.once('error', reject);
  });
  // Jobs run for hours; Node's default request timeout would cut such calls off.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}${config.servicePath}`;

  return {
    url,
    server,
    bus,
    relay,
    async close(graceMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (relay.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      server.closeAllConnections();
      await closed;
      bus.close();
    },
  };
}
