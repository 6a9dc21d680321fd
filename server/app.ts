import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { faultEnvelope } from '../protocol/codec/soap-envelope';
import { soapCallRoute } from './call/soap-call';
import type { GatewayConfig } from './config/config';
import type { JobRelay } from './dbus/job-relay';
import { faultFor } from './errors/error-catalogue';
import { continueOnceAdmitted, exemptAddresses } from './http/admission';
import { createBasicAuth } from './http/basic-auth';
import type { HtpasswdFile } from './http/htpasswd-file';
import { callerWentAway } from './http/caller-gone';
import { type Readiness, healthProbes } from './http/health';
import { publicUrl } from './http/public-url';
import { requestId } from './http/request-id';
import { trustFunction } from './config/trusted-proxies';
import { readWsdl, wsdlForAddress } from './http/wsdl-document';
import type { JobsPage } from './jobs-page/jobs-page';
import type { Logger } from './logging/logger';
import type { DaemonFileRemover } from './operations/daemon-temp-files';
import type { GatewayMetrics } from './metrics/gateway-metrics';
import { METRICS_PATH, metricsHandler } from './metrics/metrics-endpoint';

export interface AppDeps {
  readonly config: GatewayConfig;
  readonly bus: Readiness;
  readonly relay: JobRelay;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Removes what the daemon's jobs leave in its TMPDIR for a call. */
  readonly daemonFiles?: DaemonFileRemover;
  /** The operators' page of relayed jobs, at the service's base path (behind the same auth). */
  readonly jobsPage?: JobsPage;
  /** The --htpasswd file, when the gateway reads it again on SIGHUP. */
  readonly htpasswd?: HtpasswdFile;
}

/**
 * The Express application: request ids, probes, auth, the SOAP calls, then the GETs (jobs page,
 * metrics, the WSDL). The gateway reads SOAP itself (server/call/): one streaming parse of every
 * request form, with files going to disk as they arrive and strict refusal of what no Disnix call
 * holds; the WSDL stays the contract, and other SOAP stacks are tested against it.
 */
export function createApp({ config, bus, relay, metrics, logger, jobsPage, daemonFiles, htpasswd }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-* count only from the proxies of --trust-proxy: req.ip, the WSDL's address.
  app.set('trust proxy', trustFunction(config.trustProxy, config.socket !== undefined));
  app.use(requestId());
  // Before auth: probes carry no credentials, and these answers reveal nothing.
  app.use(healthProbes(bus));
  const auth = createBasicAuth(config.auth, (reason) => metrics.countAuthFailure(reason), { logger, failureLimit: config.authFailureLimit, htpasswd });
  if (auth) app.use(config.noAuthFrom ? exemptAddresses(config.noAuthFrom, auth) : auth);
  app.use(continueOnceAdmitted);

  app.post(
    config.servicePath,
    soapCallRoute({
      calls: jobsPage?.history,
      relay,
      jobTimeouts: config.jobTimeouts,
      maxBodyBytes: config.maxBodyBytes,
      uploadDir: config.uploadDir,
      uploadStallMs: config.uploadStallMs,
      daemonFiles,
      logger,
      metrics,
    }),
  );

  // GETs only, after the SOAP route, so that calls need not walk them: the jobs page (its
  // routes are all GETs), the metrics and the WSDL.
  if (jobsPage) app.use(jobsPage.path, (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? jobsPage.router(req, res, next) : next()));
  if (!config.metricsListen) app.get(METRICS_PATH, metricsHandler(metrics));

  const wsdl = readWsdl();
  app.get(config.servicePath, (req, res) => {
    if (!('wsdl' in req.query)) {
      res.type('text/plain').send(`This is the DisnixWebService SOAP endpoint; its WSDL is at ${callerUrl(req)}?wsdl\n`);
      return;
    }
    res.type('application/xml').send(wsdlForAddress(wsdl, callerUrl(req)));
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send(`Nothing here; the DisnixWebService endpoint is ${config.servicePath}\n`);
  });
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    if (callerWentAway(error, req)) {
      logger.info('the caller went away before its request was read', { path: req.path, client: req.ip });
      return;
    }
    logger.error('request failed', { path: req.path, error: String(error?.stack ?? error) });
    const fault = faultFor(error);
    if (res.headersSent) res.destroy();
    else res.status(fault.status).type('text/xml; charset=utf-8').send(faultEnvelope(fault.faultcode, fault.faultstring));
  };
  app.use(onError);
  return app;
}

/** The URL this caller used for the endpoint, as far as this server can tell. */
function callerUrl(req: Request): string {
  return publicUrl(req, `${req.baseUrl}${req.path}`);
}
