import type { RequestHandler } from 'express';

export interface Readiness {
  /** Whether the bus is connected and disnix-service owns its name on it. */
  isDaemonReady(): Promise<boolean>;
}

/**
 * /healthz (the process answers) and /readyz (calls can be relayed now). Meant for probes that
 * carry no credentials, so they say nothing else: no version, address or path. A plain handler
 * rather than a Router, since every SOAP call passes it on its way in.
 */
export function healthProbes(readiness: Readiness): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/healthz') {
      res.set('Cache-Control', 'no-store').type('text/plain').send('ok\n');
    } else if (req.path === '/readyz') {
      readiness.isDaemonReady().then((ready) => {
        res
          .status(ready ? 200 : 503)
          .set('Cache-Control', 'no-store')
          .type('text/plain')
          .send(ready ? 'ready\n' : 'not ready\n');
      }, next);
    } else {
      next();
    }
  };
}
