#!/usr/bin/env node
/**
 * The ceiling of the transfer benchmark: the same file moved over loopback by plain HTTP, a PUT
 * streamed into a file and a GET streamed out of one, with Node's own http module as on both
 * ends of the gateway, but nothing else in between (no SOAP, no MIME, no D-Bus job).
 *
 * Usage: plain-http.js serve PORT DIR | put URL FILE | get URL FILE
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const CHUNK = 1024 * 1024;

async function serve(port: number, dir: string): Promise<void> {
  const server = createServer((req, res) => {
    const file = join(dir, basename(decodeURIComponent(req.url ?? '/x')));
    const done = (status: number) => res.writeHead(status).end();
    if (req.method === 'PUT') {
      pipeline(req, createWriteStream(file, { highWaterMark: CHUNK })).then(
        () => done(201),
        () => done(500),
      );
    } else {
      stat(file).then(
        (info) => {
          res.writeHead(200, { 'Content-Length': info.size, 'Content-Type': 'application/octet-stream' });
          pipeline(createReadStream(file, { highWaterMark: CHUNK }), res).catch(() => res.destroy());
        },
        () => done(404),
      );
    }
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write('ready\n');
}

async function put(url: string, file: string): Promise<void> {
  const { size } = await stat(file);
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'Content-Length': size }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: CHUNK }), req).catch(reject);
  });
}

async function get(url: string, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      pipeline(res, createWriteStream(file, { highWaterMark: CHUNK })).then(resolve, reject);
    })
      .on('error', reject)
      .end();
  });
}

const [mode, a, b] = process.argv.slice(2);
const run =
  mode === 'serve'
    ? serve(Number(a), b)
    : mode === 'put'
      ? put(a, b)
      : mode === 'get'
        ? get(a, b)
        : Promise.reject(new Error('usage: plain-http.js serve PORT DIR | put URL FILE | get URL FILE'));
run.catch((error: unknown) => {
  process.stderr.write(`plain-http: ${(error as Error).message}\n`);
  process.exit(1);
});
