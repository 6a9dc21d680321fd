#!/usr/bin/env node
/**
 * The ceilings of the gateway benchmark: one route that makes the queryInstalled job straight
 * on D-Bus and answers a fixed-shape SOAP response, with no SOAP parsing, no auth and no
 * logging, in an Express 5 app ('express') or on node:http alone ('node'). What they reach is
 * what any Express-based relay, or any node relay at all, can reach on this machine, so that the
 * gateway's figures can be read as the framework's share, node's and D-Bus's, and its own.
 *
 * Usage: bare-relay.js PORT BUS_ADDRESS PATH PROFILE express|node, with an IPC channel (bare-relay-process.ts):
 * it sends 'ready' once it listens, and exits when the channel closes, so that it never outlives
 * the benchmark, even one killed with SIGKILL.
 */
import { type ServerResponse, createServer } from 'node:http';
import express from 'express';
import { escapeXml } from '../soap-client/envelope';
import { getOperation, TARGET_NAMESPACE } from '../protocol/operations';
import { connectDirect } from './direct-dbus';

const JOB = getOperation('queryInstalled').dbus!;
const HEAD = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="${TARGET_NAMESPACE}"><soap:Body><tns:queryInstalledResponse>`;
const TAIL = '</tns:queryInstalledResponse></soap:Body></soap:Envelope>';

export type RelayFramework = 'express' | 'node';

async function main(port: number, busAddress: string, path: string, profile: string, framework: RelayFramework): Promise<void> {
  const direct = await connectDirect(busAddress);
  const answer = (res: ServerResponse) =>
    direct.run(JOB.method, JOB.signature, [profile]).then(
      (paths) => {
        const body = Buffer.from(`${HEAD}${paths.map((item) => `<tns:return>${escapeXml(item)}</tns:return>`).join('')}${TAIL}`);
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length }).end(body);
      },
      (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(error.message),
    );
  // The body is read, as any relay must before it answers, but not parsed: the profile is fixed.
  const server = createServer(framework === 'express' ? expressRelay(path, answer) : (req, res) => req.resume().once('end', () => answer(res)));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
  process.send?.('ready');
}

function expressRelay(path: string, answer: (res: ServerResponse) => void): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.post(path, express.text({ type: () => true }), (_req, res) => answer(res));
  return app;
}

const [port, busAddress, path, profile, framework] = process.argv.slice(2);
main(Number(port), busAddress, path, profile, framework === 'node' ? 'node' : 'express').catch((error: unknown) => {
  process.stderr.write(`bare-relay: ${(error as Error).message}\n`);
  process.exit(1);
});
