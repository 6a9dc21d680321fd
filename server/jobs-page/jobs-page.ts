import type { Router } from 'express';
import type { DisnixBus } from '../dbus/bus-connection';
import { JobHistory } from './job-history';
import { createJobsRouter } from './jobs-routes';
import { jobsPagePath } from './page-path';

export interface JobsPage {
  /** Where to mount `router`, e.g. /DisnixWebService/. */
  readonly path: string;
  readonly router: Router;
  /** Hand this to the SOAP service: it records every call. */
  readonly history: JobHistory;
}

export interface JobsPageOptions {
  readonly servicePath: string;
  readonly historySize: number;
  readonly bus: DisnixBus;
  readonly pollMs?: number;
}

/** The operators' view of the jobs this gateway relays (see jobs-routes for what it serves). */
export function createJobsPage({ servicePath, historySize, bus, pollMs }: JobsPageOptions): JobsPage {
  const history = new JobHistory(historySize);
  const path = jobsPagePath(servicePath);
  let lastLogDir: string | undefined;
  // Asked each time rather than once: a restarted daemon may log elsewhere. The last answer
  // still serves the logs of ended jobs while the daemon is away.
  const logDir = async (): Promise<string | undefined> => {
    try {
      const reply = await bus.call('get_logdir', '', []);
      if (typeof reply.body[0] === 'string') lastLogDir = reply.body[0];
    } catch {
      // not reachable now: fall back on what it said before
    }
    return lastLogDir;
  };
  const router = createJobsRouter({ history, pagePath: path, servicePath, daemonReady: () => bus.isDaemonReady(), logDir, pollMs });
  return { path, router, history };
}
