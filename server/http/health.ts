import { Router } from 'express';

export interface Readiness {
  /** Whether the bus is connected and disnix-service owns its name on it. */
  isDaemonReady(): Promise<boolean>;
}

/**
 * /healthz (the process answers) and /readyz (calls can be relayed now). Meant for probes that
 * carry no credentials, so they say nothing else: no version, address or path.
 */
export function createHealthRouter(readiness: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('text/plain').send('ok\n');
  });
  router.get('/readyz', async (_req, res) => {
    const ready = await readiness.isDaemonReady();
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').type('text/plain').send(ready ? 'ready\n' : 'not ready\n');
  });
  return router;
}
