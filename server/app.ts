import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import * as soap from 'soap';
import type { GatewayConfig } from './config/config';
import type { JobRelay } from './dbus/job-relay';
import { GatewayError } from './errors';
import { continueOnceAdmitted, exemptAddresses } from './http/admission';
import { createBasicAuth } from './http/basic-auth';
import { callerWentAway } from './http/caller-gone';
import { publicUrl } from './http/public-url';
import { trustFunction } from './config/trusted-proxies';
import { type Readiness, healthProbes } from './http/health';
import { requestId } from './http/request-id';
import type { JobsPage } from './jobs-page/jobs-page';
import type { Logger } from './logger';
import type { GatewayMetrics } from './metrics/gateway-metrics';
import { METRICS_PATH, metricsHandler } from './metrics/metrics-endpoint';
import { type CheckedEnvelope, checkEnvelope } from './soap/envelope-check';
import { faultEnvelope, faultFor } from './soap/soap-faults';
import { answerReadCall, isReadCall } from './soap/checked-call';
import { createSoapService } from './soap/soap-service';
import { readWsdl, wsdlForAddress } from './soap/wsdl-document';
import { holdShutdownFor } from './shutdown';
import { createStreamedCallHandler, createStreamedCallRouting, isStreamedCall } from './transfer/streamed-call-routing';

export interface AppDeps {
  readonly config: GatewayConfig;
  readonly bus: Readiness;
  readonly relay: JobRelay;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** The operators' page of relayed jobs, at the service's base path (behind the same auth). */
  readonly jobsPage?: JobsPage;
}

/** The Express application: request ids, probes, auth, metrics, the WSDL, the request checks, and the SOAP service. */
export async function createApp({ config, bus, relay, metrics, logger, jobsPage }: AppDeps): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-* count only from the proxies of --trust-proxy: req.ip, the WSDL's address.
  app.set('trust proxy', trustFunction(config.trustProxy, config.socket !== undefined));
  app.use(requestId());
  // Before auth: probes carry no credentials, and these answers reveal nothing.
  app.use(healthProbes(bus));
  const auth = createBasicAuth(config.auth, (reason) => metrics.countAuthFailure(reason), { logger, failureLimit: config.authFailureLimit });
  if (auth) app.use(config.noAuthFrom ? exemptAddresses(config.noAuthFrom, auth) : auth);
  app.use(continueOnceAdmitted);

  const callDeps = { calls: jobsPage?.history, relay, jobTimeouts: config.jobTimeouts, logger, metrics };
  const streamedCall = createStreamedCallHandler({ ...callDeps, config });
  // One route for both readers: a SOAP call walks the app's layers once.
  app.post(
    config.servicePath,
    createStreamedCallRouting(streamedCall),
    express.text({ type: () => true, limit: config.maxBodyBytes }),
    (req, res, next) => {
      const contentType = req.get('content-type') ?? '';
      if (!/^(text\/xml|application\/soap\+xml)\b/i.test(contentType)) {
        sendFault(res, 415, new GatewayError('GW_ERR_BAD_REQUEST', `a SOAP 1.1 request has Content-Type text/xml, not "${contentType || 'none'}"`));
        return;
      }
      const body = typeof req.body === 'string' ? req.body : '';
      let call: CheckedEnvelope;
      try {
        call = checkEnvelope(body);
      } catch (error) {
        sendFault(res, 400, error);
        return;
      }
      // A small request of the streaming path's kind, read here whole: it goes there with its body.
      if (isStreamedCall(call)) streamedCall(req, res, next, Buffer.from(body));
      else if (isReadCall(call)) holdShutdownFor(answerReadCall(call, req, res, callDeps).catch(next));
      else next();
    },
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

  await new Promise<void>((resolve, reject) => {
    soap.listen(app, {
      path: config.servicePath,
      services: createSoapService(callDeps),
      xml: wsdl,
      suppressStack: true,
      preserveWhitespace: true,
      enableChunkedEncoding: false,
      callback: (error: unknown) => (error ? reject(error) : resolve()),
    } as soap.IServerOptions);
  });

  // Registered after the `soap` package has added its route, which it does asynchronously.
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`Nothing here; the DisnixWebService endpoint is ${config.servicePath}\n`);
  });
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    if (callerWentAway(error, req)) {
      logger.info('the caller went away before its request was read', { path: req.path, client: req.ip });
      return;
    }
    const status = typeof error?.status === 'number' ? error.status : 500;
    if (status === 413) {
      sendFault(res, 413, new GatewayError('GW_ERR_BAD_REQUEST', `the request is larger than the ${config.maxBodyBytes} bytes accepted (--max-body-size)`));
      return;
    }
    if (status >= 500) logger.error('request failed', { path: req.path, error: String(error?.stack ?? error) });
    sendFault(res, status, status < 500 ? new GatewayError('GW_ERR_BAD_REQUEST', `the request cannot be read: ${error?.message ?? error}`) : error);
  };
  app.use(onError);
  return app;
}

function sendFault(res: express.Response, status: number, error: unknown): void {
  res.status(status).type('text/xml; charset=utf-8').send(faultEnvelope(faultFor(error).Fault));
}

/** The URL this caller used for the endpoint, as far as this server can tell. */
function callerUrl(req: Request): string {
  return publicUrl(req, `${req.baseUrl}${req.path}`);
}
