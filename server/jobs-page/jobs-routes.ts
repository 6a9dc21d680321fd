import { join } from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { operationNames } from '../../protocol/operations';
import { readJobLog } from '../dbus/job-log';
import { JOB_OUTCOMES, type JobEntry, type JobFilter, type JobHistory, type JobOutcome } from './job-history';
import { streamJobLog } from './log-stream';
import { STATIC_DIR, renderPage } from './page-html';
import { relativeToPage } from './page-path';

export interface JobsRoutesDeps {
  readonly history: JobHistory;
  /** Where the page is mounted (ends with /) and where the SOAP service is. */
  readonly pagePath: string;
  readonly servicePath: string;
  readonly daemonReady: () => Promise<boolean>;
  /** The daemon's log directory, or the last one it named, or undefined. */
  readonly logDir: () => Promise<string | undefined>;
  readonly pollMs?: number;
}

/**
 * Nothing on the page comes from elsewhere, and nothing may run but its own script: even a
 * log line that slipped into the markup could not execute.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The list is polled every few seconds: a bus that hangs must not hold it up. */
const READY_CHECK_MS = 2000;

const FAILED: readonly JobOutcome[] = JOB_OUTCOMES.filter((o) => o !== 'running' && o !== 'success');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  next();
};

/** The jobs page, its static files and its data: mounted at `pagePath`, behind the gateway's auth. */
export function createJobsRouter(deps: JobsRoutesDeps): Router {
  const router = express.Router();
  const page = renderPage(`${relativeToPage(deps.pagePath, deps.servicePath)}?wsdl`);

  router.get('/', securityHeaders, (req, res) => {
    // Relative links need the slash: /DisnixWebService -> DisnixWebService/ (relative, for proxies).
    const path = req.originalUrl.split('?', 1)[0];
    if (!path.endsWith('/')) {
      res.redirect(301, `${path.slice(path.lastIndexOf('/') + 1)}/`);
      return;
    }
    res.set('Cache-Control', 'no-store').type('html').send(page);
  });
  for (const [name, type] of [
    ['jobs-page.js', 'text/javascript'],
    ['jobs-page-format.js', 'text/javascript'],
    ['jobs-page.css', 'text/css'],
    ['favicon.svg', 'image/svg+xml'],
  ]) {
    router.get(`/static/${name}`, securityHeaders, (_req, res) => {
      res.set('Cache-Control', 'no-cache').type(type).sendFile(join(STATIC_DIR, name));
    });
  }

  router.get('/api/jobs', securityHeaders, async (req, res) => {
    const filter = parseFilter(req);
    if (typeof filter === 'string') {
      res.status(400).json({ error: filter });
      return;
    }
    const daemonReady = await withinMs(deps.daemonReady(), READY_CHECK_MS, false);
    res.set('Cache-Control', 'no-store').json({ daemonReady, historyLimit: deps.history.limit, jobs: deps.history.list(filter) });
  });

  router.get('/api/jobs/:jobId/log', securityHeaders, async (req, res) => {
    const job = knownJob(req, res, deps.history);
    if (!job) return;
    const logDir = await deps.logDir();
    if (logDir === undefined) {
      res.status(503).type('text/plain').send('disnix-service did not say where its logs are (it is not reachable).\n');
      return;
    }
    res
      .set({ 'Cache-Control': 'no-store', 'X-Job-Outcome': job.outcome })
      .type('text/plain; charset=utf-8')
      .send(await readJobLog(logDir, job.jobId!));
  });

  router.get('/api/jobs/:jobId/log/stream', securityHeaders, async (req, res) => {
    const job = knownJob(req, res, deps.history);
    if (!job) return;
    await streamJobLog(req, res, { logDir: await deps.logDir(), jobId: job.jobId!, ended: job.ended, pollMs: deps.pollMs });
  });
  return router;
}

/** Ids are integers the history knows; anything else is a 404 before any file is touched. */
function knownJob(req: Request, res: Response, history: JobHistory): JobEntry | undefined {
  const text = String(req.params.jobId);
  const job = /^\d{1,10}$/.test(text) ? history.findJob(Number(text)) : undefined;
  if (!job)
    res
      .status(404)
      .type('text/plain')
      .send(`No job ${text.slice(0, 20)} in the gateway's job history.\n`);
  return job;
}

/** `?outcome=failure,timeout&operation=activate`; `failed` stands for every unsuccessful end. */
function parseFilter(req: Request): JobFilter | string {
  const values = (name: string): string[] | undefined => {
    const raw = req.query[name];
    if (raw === undefined || raw === '') return undefined;
    return ([] as unknown[])
      .concat(raw)
      .flatMap((v) => String(v).split(','))
      .filter((v) => v !== '');
  };
  const outcomes = values('outcome')?.flatMap((o): string[] => (o === 'failed' ? [...FAILED] : [o]));
  const badOutcome = outcomes?.find((o) => !JOB_OUTCOMES.includes(o as JobOutcome));
  if (badOutcome !== undefined) return `unknown outcome "${badOutcome}"; known: failed, ${JOB_OUTCOMES.join(', ')}`;
  const operations = values('operation');
  const badOperation = operations?.find((o) => !(operationNames as string[]).includes(o));
  if (badOperation !== undefined) return `unknown operation "${badOperation}"`;
  return { outcomes: outcomes as JobOutcome[] | undefined, operations };
}

function withinMs<T>(promise: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(otherwise), ms)));
  return Promise.race([promise.catch(() => otherwise), late]).finally(() => clearTimeout(timer));
}
