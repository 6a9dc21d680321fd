#!/usr/bin/env node
/**
 * A demo disnix-service: a real D-Bus service publishing org.nixos.disnix.Disnix with the job
 * protocol of the real daemon (get_job_id, the call returns at once, one finish/success/failure
 * signal later, one log file per job), working on a sandbox state directory instead of Nix.
 * Tests, benchmarks and `npm run demo` run it on a private bus.
 *
 * State directory layout (all created on start):
 *   store/      the demo Nix store: <store>/<32-char hash>-<name>, a file or a directory;
 *               derivations are <hash>-<name>.drv JSON files (see DerivationSpec in
 *               demo-store.ts) that realise into <hash>-<name>
 *   db/         <hash>-<name>.json per store path: { "references": [entry names] }
 *   profiles/   <profile> -> <profile>-<N>-link -> store path (generations, as in Nix);
 *               query_installed answers the text of <store path>/manifest (else the path)
 *   locks/      <profile> while the profile is locked
 *   log/        <job id> per job: a header line worded as the real daemon's, then the job's
 *               messages (--log-dir puts them elsewhere)
 *   state/      <container>/<component>: component state that snapshot, restore and
 *               delete_state act on (component = store path name without its hash)
 *   active/     <container>/<component> while activated (holds the store path)
 *   snapshots/  <container>/<component>/<content hash or imported name>/ snapshot store;
 *               queries answer "container/component/name"
 *   tmp/        staging of new store paths; export closure files and capture_config files
 *               (disnix.XXXXXX, never removed) go to $TMPDIR as with the real daemon (else
 *               /tmp); the launcher of tests and `npm run demo` sets TMPDIR to this tmp/
 *
 * Conventions tests rely on: Dysnomia arguments `delay=<ms>` and `fail=<message>` (any type);
 * a derivation with `buildMs`/`fail`; a failed export or capture_config sends no signal.
 */
import * as dbus from 'dbus-next';
import type { EventEmitter } from 'node:events';
import { DISNIX_BUS_NAME } from '../server/dbus/disnix-interface';
import { exportDisnixInterface } from './demo-interface';
import { lastLoggedJobId } from './demo-jobs';
import { createEnv, demoLayout, ensureLayout } from './demo-layout';
import { type DemoOptions, parseOptions, USAGE } from './demo-options';
import { seedStore } from './demo-seed';

function fail(message: string): never {
  process.stderr.write(`disnix-service: ${message}\n`);
  process.exit(1);
}

async function main(options: DemoOptions): Promise<void> {
  const layout = demoLayout(options.stateDir, options.logDir);
  await ensureLayout(layout, options.logDir === undefined);
  await seedStore(layout);

  const bus = options.busAddress === undefined ? dbus.systemBus() : dbus.sessionBus({ busAddress: options.busAddress });
  const where = options.busAddress ?? 'the system bus';
  // Without an 'error' listener dbus-next throws from the socket and kills the process.
  bus.on('error', (error: Error) => fail(`D-Bus connection to ${where} failed: ${error.message}`));
  // The end of the stream is only visible on the connection, which MessageBus does not type.
  (bus as unknown as { _connection: EventEmitter })._connection.on('end', () => fail(`the bus at ${where} went away; exiting`));

  // The real daemon's export and capture_config files go to $TMPDIR, else /tmp.
  exportDisnixInterface(bus, createEnv(layout, process.env.TMPDIR || '/tmp'), options.jobDelayMs, await lastLoggedJobId(layout.logDir));
  const reply = await bus.requestName(DISNIX_BUS_NAME, 0);
  if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
    process.stderr.write(`disnix-service: ${DISNIX_BUS_NAME} is owned by another process; waiting for it\n`);
    await new Promise<void>((resolve) =>
      bus.on('message', (msg: dbus.Message) => {
        if (msg.member === 'NameAcquired' && msg.body[0] === DISNIX_BUS_NAME) resolve();
      }),
    );
  }

  const stop = () => {
    bus.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`demo disnix-service ready on ${where}, state in ${layout.stateDir}\n`);
}

let options: DemoOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  fail(`${(error as Error).message} (see --help)`);
}
if (options === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else {
  main(options).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
}
