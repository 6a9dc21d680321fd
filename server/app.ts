import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import * as soap from 'soap';
import type { GatewayConfig } from './config/config';
import type { JobRelay } from './dbus/job-relay';
import { GatewayError } from './errors';
import { createBasicAuth } from './http/basic-auth';
import type { Logger } from './logger';
import { checkEnvelope } from './soap/envelope-check';
import { faultEnvelope, faultFor } from './soap/soap-faults';
import { createSoapService } from './soap/soap-service';
import { readWsdl, wsdlForAddress } from './soap/wsdl-document';

export interface AppDeps {
  readonly config: GatewayConfig;
  readonly relay: JobRelay;
  readonly logger: Logger;
}

/** The Express application: auth, the WSDL, the request checks, and the SOAP service. */
export async function createApp({ config, relay, logger }: AppDeps): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  const auth = createBasicAuth(config.auth);
  if (auth) app.use(auth);

  const wsdl = readWsdl();
  app.get(config.servicePath, (req, res) => {
    if (!('wsdl' in req.query)) {
      res.type('text/plain').send(`This is the DisnixWebService SOAP endpoint; its WSDL is at ${callerUrl(req)}?wsdl\n`);
      return;
    }
    res.type('application/xml').send(wsdlForAddress(wsdl, callerUrl(req)));
  });

  app.post(
    config.servicePath,
    express.text({ type: () => true, limit: config.maxBodyBytes }),
    (req, res, next) => {
      const contentType = req.get('content-type') ?? '';
      if (!/^(text\/xml|application\/soap\+xml)\b/i.test(contentType)) {
        sendFault(res, 415, new GatewayError('GW_ERR_BAD_REQUEST', `a SOAP 1.1 request has Content-Type text/xml, not "${contentType || 'none'}"`));
        return;
      }
      try {
        checkEnvelope(typeof req.body === 'string' ? req.body : '');
      } catch (error) {
        sendFault(res, 400, error);
        return;
      }
      next();
    },
  );

  await new Promise<void>((resolve, reject) => {
    soap.listen(app, {
      path: config.servicePath,
      services: createSoapService({ relay, jobTimeouts: config.jobTimeouts, logger }),
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
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}${req.path}`;
}
