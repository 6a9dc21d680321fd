#!/usr/bin/env node
/**
 * A disnix-service stand-in for the transfer benchmark only: `import` keeps the uploaded closure
 * file (a hard link, as cheap as Nix moving it into the store) so the benchmark can check its
 * digest afterwards, and `export` names the file it is given as the closure, so any payload can
 * be downloaded. The demo disnix-service cannot serve here: its import checks and unpacks a
 * closure in its own format, and the benchmark's payloads are random bytes.
 *
 * Usage: transfer-daemon.js --bus-address ADDR --state-dir DIR   (prints "ready" once on the bus)
 */
import * as dbus from 'dbus-next';
import { existsSync } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DISNIX_BUS_NAME, DISNIX_OBJECT_PATH } from '../server/dbus/disnix-interface';
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
    // After the method return is on the wire, as the real daemon signals.
    setImmediate(() => {
      link(closure, join(this.keptDir, `import-${pid}`)).then(
        () => this.finish(pid),
        (error: Error) => void writeFile(join(this.logDir, String(pid)), `error: ${error.message}\n`).then(() => this.failure(pid)),
      );
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
