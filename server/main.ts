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
  // A terminal gets readable lines; a pipe (journald, a container runtime) gets JSON for collectors.
  const json = config.logFormat === 'json' || (config.logFormat === 'auto' && !process.stderr.isTTY);
  const logger = createLogger({ level: config.logLevel, json });
  const gateway = await startGateway(config, logger);
  // Before the "listening" line: whoever waits for that line may send a signal at once.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info(`DisnixWebService listening on ${gateway.url} (WSDL: ${gateway.url}?wsdl)`, {
    bus: config.bus.address,
    auth: config.auth.mode === 'none' ? 'none' : 'basic',
    // Which X-Forwarded-* senders count: the first thing to check when the WSDL names the wrong URL.
    trustProxy: config.trustProxy?.entries.join(',') ?? 'none',
    metrics: gateway.metricsUrl ?? 'at /metrics, behind the same auth',
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
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
