import type { Server } from 'node:http';
import { createApp } from './app';
import type { GatewayConfig } from './config/config';
import { DisnixBus } from './dbus/bus-connection';
import { JobRelay } from './dbus/job-relay';
import { createJobsPage } from './jobs-page/jobs-page';
import { HtpasswdFile } from './http/htpasswd-file';
import { listenGateway } from './http/listen-target';
import { type ReloadReport, fileReloader } from './http/reload-files';
import type { Logger } from './logging/logger';
import { releaseAbandonedPipes } from './operations/upload-area';
import { DaemonTempFiles, type Identity } from './operations/daemon-temp-files';
import { drainGateway, trackRequests } from './lifecycle/shutdown';
import { type GatewayMetrics, createGatewayMetrics } from './metrics/gateway-metrics';
import { startMetricsListener } from './metrics/metrics-endpoint';

export interface Gateway {
  /** The service URL as reachable on the listening address. */
  readonly url: string;
  /** Which addresses the listener takes, in words (0.0.0.0 takes IPv4 only, for one). */
  readonly listens: string;
  readonly server: Server;
  readonly bus: DisnixBus;
  readonly relay: JobRelay;
  readonly metrics: GatewayMetrics;
  /** The /metrics URL of the separate listener (--metrics-listen), if there is one. */
  readonly metricsUrl?: string;
  /** Reads the htpasswd and TLS files again (SIGHUP); says what it read, or what failed. */
  reloadFiles(): Promise<ReloadReport>;
  /** Stops accepting calls, lets calls in flight end within `graceMs`, ends the rest with a Fault, then disconnects. */
  close(graceMs?: number): Promise<void>;
}

export interface GatewayOptions {
  /**
   * Who the gateway counts as when it checks whether it may clean the daemon's TMPDIR (default:
   * its own user and groups). Tests run as root, who may delete anything, and name a user here.
   */
  readonly identity?: Identity;
}

export async function startGateway(config: GatewayConfig, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const bus = new DisnixBus(config.bus.address, logger);
  const relay = new JobRelay(bus, logger);
  const metrics = createGatewayMetrics({ relay, bus });
  const jobsPage = createJobsPage({ servicePath: config.servicePath, historySize: config.jobHistory, bus });
  const daemonFiles = new DaemonTempFiles(config.daemonTmpDir, logger, options.identity);
  const htpasswd = config.auth.mode === 'users' && config.auth.htpasswdFile !== undefined ? new HtpasswdFile(config.auth.htpasswdFile, logger) : undefined;
  const app = createApp({ jobsPage, config, bus, relay, metrics, logger, daemonFiles, htpasswd });

  // Once, at start-up, before any call: a gateway that may not clean the daemon's TMPDIR says so
  // here, not per call. A look at one directory's mode: it costs start-up nothing.
  await daemonFiles.probe();
  const released = await releaseAbandonedPipes(config.uploadDir);
  if (released > 0) logger.warn('ended the closure imports a stopped gateway had left open', { pipes: released, uploadDir: config.uploadDir });

  // Not a start-up condition: the daemon or the bus may come later, and each call connects.
  void bus.isDaemonReady().then((ready) => {
    if (!ready) logger.warn('disnix-service is not on the bus yet; calls fail until it is', { bus: config.bus.address });
  });

  // TCP or a unix socket, plain HTTP or TLS.
  const listening = await listenGateway(app, config).catch((error: unknown) => {
    bus.close();
    throw error;
  });
  const { server, url, listens } = listening;
  // Jobs run for hours; Node's default request timeout would cut such calls off.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const requests = trackRequests(server);
  let separate: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  if (config.metricsListen) {
    try {
      separate = await startMetricsListener(config, config.metricsListen, metrics, bus);
    } catch (error) {
      server.close();
      bus.close();
      throw error;
    }
  }

  return {
    url,
    listens,
    server,
    bus,
    relay,
    metrics,
    metricsUrl: separate?.url,
    reloadFiles: fileReloader({ server, tls: config.tls, htpasswd }),
    async close(graceMs = 0) {
      separate?.server.close();
      separate?.server.closeAllConnections();
      await drainGateway({ server, relay, requests, lingeringConnections: () => listening.gentleClose.lingering, graceMs, logger });
      await listening.cleanup();
      bus.close();
    },
  };
}
