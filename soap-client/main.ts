#!/usr/bin/env node
import { getOperation, type Operation } from '../protocol/operations';
import { movesFileContents, parseCommandLine } from './cli';
import { basicAuthorization } from './credentials';
import { ClientError } from './errors';

/**
 * disnix-soap-client: runs one Disnix operation on a target through the SOAP gateway.
 * Results go to stdout only once the whole answer is in, so a failure never leaves partial
 * output for the coordinator to parse; every message goes to stderr.
 */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const request = parseCommandLine(argv, env);
    if (request.kind === 'help' || request.kind === 'version') {
      // --version loads neither the manual nor its helpers.
      process.stdout.write(request.kind === 'help' ? (await import('./usage')).usageText() : (await import('./version')).versionText());
      return 0;
    }
    const operation = getOperation(request.call.operation);
    const connection = { url: request.target, authorization: basicAuthorization(request.target, env), timeouts: request.timeouts };
    if (movesFileContents(operation)) {
      const [{ runTransfer }, { shouldCompress }] = await Promise.all([import('./transfer-command'), import('./compression')]);
      writeResult(await runTransfer(request, { ...connection, compress: shouldCompress(request.compress, request.target) }));
      return 0;
    }
    // Loaded only now: the XML parser and the HTTP stack are not needed for usage errors.
    const { callOperation } = await import('./soap-call');
    const returns = await callOperation(connection, request.call);
    writeResult(formatResult(operation, returns));
    return 0;
  } catch (error) {
    process.stderr.write(`disnix-soap-client: ${describe(error)}\n`);
    return error instanceof ClientError ? error.exitCode : 1;
  }
}

/**
 * Nothing to print (--lock, --unlock, --activate...) leaves process.stdout untouched: setting up
 * the stream costs about 2 ms, and most steps of a deployment print nothing.
 */
function writeResult(text: string): void {
  if (text !== '') process.stdout.write(text);
}

/**
 * Prints results as the coordinator parses them: one per line, or a file's text as it is, with
 * a final newline as the original client's println gave (the daemon's file has none).
 */
function formatResult(operation: Operation, returns: readonly string[]): string {
  switch (operation.result) {
    case 'none':
      return '';
    case 'fileText': {
      const text = returns[0] ?? '';
      return text === '' || text.endsWith('\n') ? text : `${text}\n`;
    }
    case 'string':
      if (returns.length === 0) throw new ClientError('the gateway answered no result');
      return `${returns[0]}\n`;
    default:
      return returns.map((line) => `${line}\n`).join('');
  }
}

function describe(error: unknown): string {
  if (error instanceof ClientError) return error.message;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

main(process.argv.slice(2), process.env).then((status) => {
  process.exitCode = status;
});
