#!/usr/bin/env node
/**
 * The ceiling of the gateway benchmark: an Express 5 app with one route that makes the
 * queryInstalled job straight on D-Bus and answers a fixed-shape SOAP response, with no SOAP
 * parsing, no auth and no logging. What it reaches is what any Express-based relay can reach on
 * this machine, so that the gateway's figures can be read as the framework's share and its own.
 *
 * Usage: bare-relay.js PORT BUS_ADDRESS PATH PROFILE, with an IPC channel (bare-relay-process.ts):
 * it sends 'ready' once it listens, and exits when the channel closes, so that it never outlives
 * the benchmark, even one killed with SIGKILL.
 */
import { createServer } from 'node:http';
import express from 'express';
import { escapeXml } from '../soap-client/envelope';
import { getOperation, TARGET_NAMESPACE } from '../wsdl/operations';
import { connectDirect } from './direct-dbus';

const JOB = getOperation('queryInstalled').dbus!;
const HEAD = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="${TARGET_NAMESPACE}"><soap:Body><tns:queryInstalledResponse>`;
const TAIL = '</tns:queryInstalledResponse></soap:Body></soap:Envelope>';

async function main(port: number, busAddress: string, path: string, profile: string): Promise<void> {
  const direct = await connectDirect(busAddress);
  const app = express();
  app.disable('x-powered-by');
  // The body is read, as any relay must before it answers, but not parsed: the profile is fixed.
  app.post(path, express.text({ type: () => true }), (_req, res) => {
    direct.run(JOB.method, JOB.signature, [profile]).then(
      (paths) => {
        const body = Buffer.from(`${HEAD}${paths.map((item) => `<tns:return>${escapeXml(item)}</tns:return>`).join('')}${TAIL}`);
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length }).end(body);
      },
      (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(error.message),
    );
  });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
  process.send?.('ready');
}

const [port, busAddress, path, profile] = process.argv.slice(2);
main(Number(port), busAddress, path, profile).catch((error: unknown) => {
  process.stderr.write(`bare-relay: ${(error as Error).message}\n`);
  process.exit(1);
});
