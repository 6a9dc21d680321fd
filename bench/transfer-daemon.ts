#!/usr/bin/env node
/**
 * A disnix-service stand-in for the transfer benchmark only: `import` copies the closure it reads
 * into a kept file so the benchmark can check its digest afterwards, and `export` names the file
 * it is given as the closure, so any payload can be downloaded. The demo disnix-service cannot
 * serve here: its import checks and unpacks a closure in its own format, and the benchmark's
 * payloads are random bytes.
 *
 * Import reads its path as disnix-service does, with the demo daemon's own pieces
 * (demo/demo-closure.ts): a blocking open in the method handler, before the call is answered,
 * then a stream read to its end without blocking the event loop. The gateway hands over a named
 * pipe that it fills while the upload arrives (server/operations/streamed-import.ts), or a
 * regular file where it cannot make pipes; `finish` comes after the end of the closure,
 * `failure` on a read or write error.
 *
 * Usage: transfer-daemon.js --bus-address ADDR --state-dir DIR   (prints "ready" once on the bus)
 */
import * as dbus from 'dbus-next';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DISNIX_BUS_NAME, DISNIX_OBJECT_PATH } from '../server/dbus/disnix-interface';
import { closureInput, openClosureFile } from '../demo/demo-closure';
import { errorText } from '../demo/demo-job-error';
import { DisnixObject, configureDisnixObject } from '../demo/disnix-object';

class BenchDisnix extends DisnixObject {
  #lastId = 0;

  constructor(
    private readonly keptDir: string,
    private readonly logDir: string,
  ) {
    super(logDir);
  }

  get_job_id(): number {
    this.#lastId += 1;
    return this.#lastId;
  }

  import(pid: number, closure: string): void {
    const fail = (error: unknown) => void writeFile(join(this.logDir, String(pid)), `${errorText(error)}\n`).then(() => this.failure(pid));
    // Here, before the method returns, as the real daemon opens it: a pipe without a writer blocks.
    let fd: number;
    try {
      fd = openClosureFile(closure);
    } catch (error) {
      setImmediate(() => fail(error));
      return;
    }
    // After the method return is on the wire, as the real daemon signals.
    setImmediate(() => {
      pipeline(closureInput(fd), createWriteStream(join(this.keptDir, `import-${pid}`), { flags: 'wx' })).then(() => this.finish(pid), fail);
    });
  }

  export(pid: number, paths: string[]): void {
    setImmediate(() => this.success(pid, paths.slice(0, 1)));
  }

  /** The gateway checks the paths of an export first: here, a path is valid when the file is there. */
  print_invalid(pid: number, paths: string[]): void {
    setImmediate(() =>
      this.success(
        pid,
        paths.filter((path) => !existsSync(path)),
      ),
    );
  }
}

configureDisnixObject(BenchDisnix, { import: { inSignature: 'is' }, export: { inSignature: 'ias' }, print_invalid: { inSignature: 'ias' } });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'bus-address': { type: 'string' }, 'state-dir': { type: 'string' } }, strict: true });
  const busAddress = values['bus-address'];
  const stateDir = values['state-dir'];
  if (!busAddress || !stateDir) throw new Error('usage: transfer-daemon.js --bus-address ADDR --state-dir DIR');
  const keptDir = join(stateDir, 'imported');
  const logDir = join(stateDir, 'log');
  await mkdir(keptDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', (error: Error) => {
    process.stderr.write(`transfer-daemon: ${error.message}\n`);
    process.exit(1);
  });
  bus.export(DISNIX_OBJECT_PATH, new BenchDisnix(keptDir, logDir));
  await bus.requestName(DISNIX_BUS_NAME, 0);
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`transfer-daemon: ${(error as Error).message}\n`);
  process.exit(1);
});
