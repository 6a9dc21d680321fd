import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { formatDuration } from '../../protocol/durations';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError } from '../errors/error-catalogue';
import type { Logger } from '../logging/logger';
import { faultEnvelope } from '../../protocol/codec/soap-envelope';
import { faultFor } from '../errors/error-catalogue';

/** How long answers (Faults included) may take to reach the callers once every job has ended. */
const FLUSH_MS = 2_000;
const POLL_MS = 50;

/**
 * Work that outlives its response, such as removing an upload's temporary files after the
 * caller went away: a shutdown waits for it (up to FLUSH_MS) before the process exits.
 */
const lingering = new Set<Promise<unknown>>();

export function holdShutdownFor(work: Promise<unknown>): void {
  const held = work.catch(() => undefined).finally(() => lingering.delete(held));
  lingering.add(held);
}

/** Counts requests whose answer has not yet been sent, so a shutdown can wait for them. */
export interface RequestTracker {
  readonly active: number;
  /** The 'request' listener that counts; kept when the application's listener is replaced. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
}

export function trackRequests(server: Server): RequestTracker {
  let active = 0;
  const listener = (_req: IncomingMessage, res: ServerResponse) => {
    active += 1;
    res.once('close', () => (active -= 1));
  };
  server.prependListener('request', listener);
  return {
    listener,
    get active() {
      return active;
    },
  };
}

export interface DrainOptions {
  readonly server: Server;
  readonly relay: JobRelay;
  readonly requests: RequestTracker;
  /** How many connections are still being read after an early answer (see lingering-close). */
  readonly lingeringConnections: () => number;
  readonly graceMs: number;
  readonly logger: Logger;
}

/**
 * A graceful stop: no new connections, and no new calls on connections kept alive; calls in
 * flight may finish within the grace period; calls whose jobs still run after it end in a
 * Fault that says so (the daemon goes on with those jobs); then every connection is closed.
 */
export async function drainGateway({ server, relay, requests, lingeringConnections, graceMs, logger }: DrainOptions): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  refuseNewRequests(server, requests);
  server.closeIdleConnections();

  await until(() => requests.active === 0, graceMs);
  if (relay.inFlight > 0) {
    logger.warn(`the ${formatDuration(graceMs)} grace period is over; ${relay.inFlight} call(s) still waiting for their jobs end in a Fault`);
    relay.abandonAll(`the gateway shut down at the end of its ${formatDuration(graceMs)} grace period (disnix-service goes on with the job)`);
    await until(() => relay.inFlight === 0, FLUSH_MS);
  }
  await until(() => requests.active === 0, FLUSH_MS);
  if (requests.active > 0) logger.warn(`closing ${requests.active} connection(s) whose request did not end in time`);
  // A caller refused while it was still sending (the 503 below, among others) is reading its answer now.
  await until(() => lingeringConnections() === 0, FLUSH_MS);
  server.closeAllConnections();
  await closed;
  // The timer is cleared once the work is done: left running, it would keep the process (a test
  // worker, say) alive for FLUSH_MS after close() resolved.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, FLUSH_MS)));
  await Promise.race([Promise.all([...lingering]), late]);
  clearTimeout(timer);
}

/**
 * From now on every request, even on a connection kept alive, gets a 503 Fault and the
 * connection is closed after it. Requests already being served keep their handlers.
 */
function refuseNewRequests(server: Server, requests: RequestTracker): void {
  const refuse = (_req: IncomingMessage, res: ServerResponse) => {
    const fault = faultFor(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down and takes no new calls; try again when it is back'));
    res.writeHead(fault.status, { 'Content-Type': 'text/xml; charset=utf-8', Connection: 'close' });
    res.end(faultEnvelope(fault.faultcode, fault.faultstring));
  };
  server.removeAllListeners('request');
  server.on('request', requests.listener);
  server.on('request', refuse);
}

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
