#!/usr/bin/env node
import { ConfigError, parseCommandLine } from './config/config';
import { formatDuration } from '../protocol/durations';
import { usageText } from './config/usage';
import { startGateway } from './gateway';
import { createLogger } from './logging/logger';

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
  let stopping = false;
  // A terminal gets readable lines; a pipe (journald, a container runtime) gets JSON for collectors.
  const json = config.logFormat === 'json' || (config.logFormat === 'auto' && !process.stderr.isTTY);
  const logger = createLogger({ level: config.logLevel, json });
  // Node's default for SIGHUP ends the process at once, cutting every call in flight: an
  // operator's `systemctl reload` (or a closed terminal) must never do that. Taken from before
  // the start, so that even a SIGHUP during it does no harm.
  let reloadFiles: (() => Promise<void>) | undefined;
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    if (reloadFiles === undefined) {
      logger.info(stopping ? 'SIGHUP ignored: the gateway is shutting down' : 'SIGHUP during start-up: the files are being read anyway');
      return;
    }
    // One reload after the other, so that their lines tell which files are in force; a
    // failure is logged, never left to end the process as an unhandled rejection.
    const reload = reloadFiles;
    reloading = reloading
      .then(reload)
      .catch((error: unknown) =>
        logger.error(`SIGHUP: the files could not be read again (${(error as Error)?.message ?? error}); those read before stay in use`),
      );
  });
  const gateway = await startGateway(config, logger);
  // Before the "listening" line: whoever waits for that line may send a signal at once.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  reloadFiles = async () => {
    if (stopping) return;
    const { reloaded, failed } = await gateway.reloadFiles();
    if (reloaded.length === 0 && failed.length === 0) logger.info('SIGHUP: nothing to read again (no --htpasswd, no --tls-cert)');
    else if (failed.length === 0) logger.info(`SIGHUP: read again: ${reloaded.join('; ')}`);
    else logger.error(`SIGHUP: ${failed.join('; ')}${reloaded.length > 0 ? `; read again: ${reloaded.join('; ')}` : ''}`);
  };
  logger.info(`DisnixWebService listening on ${gateway.url} (WSDL: ${gateway.url}?wsdl)`, {
    listens: gateway.listens,
    bus: config.bus.address,
    auth: config.auth.mode === 'none' ? 'none' : 'basic',
    // Which X-Forwarded-* senders count: the first thing to check when the WSDL names the wrong URL.
    trustProxy: config.trustProxy?.entries.join(',') ?? 'none',
    metrics: gateway.metricsUrl ?? 'at /metrics, behind the same auth',
  });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    reloadFiles = undefined;
    logger.info(`${signal}: no new calls; waiting up to ${formatDuration(config.shutdownGraceMs)} for ${gateway.relay.inFlight} job(s)`);
    void gateway.close(config.shutdownGraceMs).then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.problems.join('\n  ') : ((error as Error)?.message ?? String(error));
  process.stderr.write(`disnix-webservice: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
