import type { Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { GatewayConfig, ListenAddress } from '../config/config';
import { type Readiness, healthProbes } from '../http/health';
import { listenGateway } from '../http/listen-target';
import type { GatewayMetrics } from './gateway-metrics';

export const METRICS_PATH = '/metrics';

export function metricsHandler(metrics: GatewayMetrics): RequestHandler {
  return async (_req, res, next) => {
    try {
      const text = await metrics.render();
      res.set('Cache-Control', 'no-store').type(metrics.contentType).send(text);
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The separate listener of --metrics-listen: /metrics and the health probes, nothing else and
 * without auth, for a scraper on an internal address that cannot or should not hold the
 * deployment credentials.
 */
export async function startMetricsListener(
  config: GatewayConfig,
  address: ListenAddress,
  metrics: GatewayMetrics,
  readiness: Readiness,
): Promise<{ server: Server; url: string }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthProbes(readiness));
  app.get(METRICS_PATH, metricsHandler(metrics));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send(`Only ${METRICS_PATH}, /healthz and /readyz are served here\n`);
  });
  // Plain HTTP on TCP, whatever the service listens on: a scraper on an internal address.
  const { host, port } = address;
  const { server, url } = await listenGateway(app, { ...config, host, port, socket: undefined, tls: undefined, servicePath: METRICS_PATH });
  return { server, url };
}
