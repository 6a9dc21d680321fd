import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuthFailureReason } from '../http/basic-auth';

export type ByteDirection = 'up' | 'down';

/** What the gateway's metrics are read from at scrape time, rather than counted on the hot path. */
export interface MetricSources {
  readonly relay: { readonly inFlight: number };
  readonly bus: { readonly reconnects: number; readonly daemonOwner: string | undefined };
}

export interface GatewayMetrics {
  /** One finished SOAP call: its operation, 'success' or its error code, its duration. */
  countCall(operation: string, outcome: string, seconds: number): void;
  /** File contents moved: 'up' from callers to the gateway, 'down' to them (the transfer code calls this). */
  countBytes(direction: ByteDirection, bytes: number): void;
  /** A request refused by HTTP basic auth: without credentials ('missing') or with wrong ones. */
  countAuthFailure(reason: AuthFailureReason): void;
  readonly contentType: string;
  /** The exposition text. */
  render(): Promise<string>;
}

const PREFIX = 'disnix_webservice_';
/** Lock and query calls take milliseconds; builds and garbage collection take hours (realise: up to 12 h). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 10800, 43200];

/**
 * The gateway's Prometheus metrics, in a registry of its own: several gateways in one process
 * (the tests) must not share counters, and nothing else in the process registers here.
 */
export function createGatewayMetrics(sources: MetricSources): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const calls = new Counter({
    name: `${PREFIX}calls_total`,
    help: 'SOAP calls answered, by operation and outcome (success, or the error code in lower case without gw_err_)',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const durations = new Histogram({
    name: `${PREFIX}call_duration_seconds`,
    help: "Time a SOAP call took, from the parsed request to its outcome (the job's end, mostly), by operation",
    labelNames: ['operation'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const bytes = new Counter({
    name: `${PREFIX}transfer_bytes_total`,
    help: 'File contents moved: up = uploaded by callers, down = downloaded by them',
    labelNames: ['direction'] as const,
    registers,
  });
  const authFailures = new Counter({
    name: `${PREFIX}auth_failures_total`,
    help: 'Requests refused by HTTP basic auth: missing = no credentials (clients that wait for the challenge send these too), refused = wrong ones',
    labelNames: ['reason'] as const,
    registers,
  });
  // Zero series from the start, so that rate() sees the first increase.
  for (const direction of ['up', 'down'] as const) bytes.inc({ direction }, 0);
  for (const reason of ['missing', 'refused'] as const) authFailures.inc({ reason }, 0);

  new Gauge({
    name: `${PREFIX}jobs_in_flight`,
    help: 'disnix-service jobs the gateway is waiting for',
    registers,
    collect() {
      this.set(sources.relay.inFlight);
    },
  });
  new Gauge({
    name: `${PREFIX}daemon_up`,
    help: '1 while the gateway knows disnix-service to own org.nixos.disnix.Disnix on its bus',
    registers,
    collect() {
      this.set(sources.bus.daemonOwner === undefined ? 0 : 1);
    },
  });
  let reconnectsSeen = 0;
  new Counter({
    name: `${PREFIX}dbus_reconnects_total`,
    help: 'Connections made to the bus after the first one (each follows a lost connection)',
    registers,
    collect() {
      // The bus counts every connection it made; the first one is no reconnect.
      const reconnects = Math.max(0, sources.bus.reconnects - 1);
      this.inc(reconnects - reconnectsSeen);
      reconnectsSeen = reconnects;
    },
  });

  return {
    countCall(operation, outcome, seconds) {
      calls.inc({ operation, outcome: outcomeLabel(outcome) });
      durations.observe({ operation }, seconds);
    },
    countBytes(direction, count) {
      bytes.inc({ direction }, count);
    },
    countAuthFailure(reason) {
      authFailures.inc({ reason });
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

/** GW_ERR_JOB_FAILED -> job_failed: shorter to query, and the same set of values. */
function outcomeLabel(outcome: string): string {
  return outcome.replace(/^GW_ERR_/, '').toLowerCase();
}
