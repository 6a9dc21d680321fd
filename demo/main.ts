#!/usr/bin/env node
/**
 * `npm run demo`: a private dbus-daemon, the demo disnix-service on it, and the gateway on
 * 127.0.0.1:8080 (DISNIX_WEBSERVICE_PORT changes the port). Ctrl-C stops all three.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { ConfigError, parseCommandLine } from '../server/config/config';
import { startGateway } from '../server/gateway';
import { jobsPagePath } from '../server/jobs-page/page-path';
import { createLogger } from '../server/logging/logger';
import { startDemoDaemon } from './demo-daemon-process';
import { demoLayout } from './demo-layout';
import { startPrivateBus } from './private-bus';

async function main(): Promise<void> {
  const username = process.env.DISNIX_WEBSERVICE_USERNAME || 'admin';
  const password = process.env.DISNIX_WEBSERVICE_PASSWORD || randomBytes(12).toString('base64url');
  const port = process.env.DISNIX_WEBSERVICE_PORT || '8080';

  const bus = await startPrivateBus();
  const daemon = await startDemoDaemon({ busAddress: bus.address });
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await gateway?.close(2_000);
    await daemon.stop();
    await bus.stop();
    process.exit(code);
  };
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    const command = parseCommandLine(['--host', '127.0.0.1', '--port', port, '--bus-address', bus.address, '--daemon-tmpdir', daemon.tmpDir], {
      ...process.env,
      DISNIX_WEBSERVICE_USERNAME: username,
      DISNIX_WEBSERVICE_PASSWORD: password,
    });
    if (command.kind !== 'run') throw new Error('unexpected command line');
    gateway = await startGateway(command.config, createLogger({ level: command.config.logLevel }));
  } catch (error) {
    const reason =
      error instanceof ConfigError
        ? error.problems.join('; ')
        : (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? `port ${port} is in use (set DISNIX_WEBSERVICE_PORT to another)`
          : (error as Error).message;
    process.stderr.write(`demo: the gateway cannot start: ${reason}\n`);
    await stopAll(1);
    return;
  }
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const store = demoLayout(daemon.stateDir).storeDir;
  const derivation = (await readdir(store)).find((name) => name.endsWith('-hello-world-service.drv'));
  const url = gateway.url;
  process.stdout.write(
    [
      '',
      'DisnixWebService demo: a private D-Bus, the demo disnix-service and the gateway are running.',
      '',
      `  service   ${url}`,
      `  WSDL      ${url}?wsdl`,
      `  jobs page ${new URL(jobsPagePath(new URL(url).pathname), url).href}`,
      `  user      ${username}`,
      `  password  ${password}`,
      `  D-Bus     ${bus.address}`,
      `  state     ${daemon.stateDir}`,
      '',
      'Try, from another terminal in this folder:',
      `  export DISNIX_SOAP_CLIENT_USERNAME=${username} DISNIX_SOAP_CLIENT_PASSWORD=${password}`,
      `  npx disnix-soap-client --target ${url} --capture-config`,
      derivation ? `  npx disnix-soap-client --target ${url} --realise ${store}/${derivation}` : '',
      `  npx disnix-soap-client --target ${url} --lock && npx disnix-soap-client --target ${url} --unlock`,
      '',
      'Ctrl-C stops all three.',
      '',
    ]
      .filter((line, i, lines) => line !== '' || lines[i - 1] !== '')
      .join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
