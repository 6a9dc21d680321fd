#!/usr/bin/env node
import { ConfigError, parseCommandLine } from './config/config';
import { usageText } from './config/usage';
import { startGateway } from './gateway';
import { createLogger } from './logger';

const SHUTDOWN_GRACE_MS = 30_000;

async function main(): Promise<void> {
  const command = parseCommandLine(process.argv.slice(2), process.env);
  if (command.kind === 'help') {
    process.stdout.write(usageText());
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`disnix-webservice ${require('../../package.json').version}\n`);
    return;
  }
  const { config } = command;
  const logger = createLogger({ level: config.logLevel });
  const gateway = await startGateway(config, logger);
  logger.info(`DisnixWebService listening on ${gateway.url} (WSDL: ${gateway.url}?wsdl)`, {
    bus: config.bus.address,
    auth: config.auth.mode === 'none' ? 'none' : 'basic',
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: no new calls; waiting up to ${SHUTDOWN_GRACE_MS / 1000} s for ${gateway.relay.inFlight} job(s)`);
    void gateway.close(SHUTDOWN_GRACE_MS).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.problems.join('\n  ') : (error as Error)?.message ?? String(error);
  process.stderr.write(`disnix-webservice: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
