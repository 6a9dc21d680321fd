import { open } from 'node:fs/promises';
import { type OperationName, getOperation } from '../../protocol/operations';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError } from '../errors';
import { type RawArguments, toJobArguments } from './operation-arguments';

/** What an operation answers: nothing, one string, or a list of strings. */
export type OperationResult = { readonly kind: 'none' } | { readonly kind: 'string'; readonly value: string } | { readonly kind: 'strings'; readonly values: readonly string[] };

export interface RelayContext {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  readonly signal?: AbortSignal;
  readonly onJobId?: (jobId: number) => void;
}

/** A captured configuration is a small Nix expression; anything far larger is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Runs an operation that is one disnix-service job and shapes its result. */
export async function relayOperation(name: OperationName, raw: RawArguments, context: RelayContext): Promise<OperationResult> {
  const operation = getOperation(name);
  if (!operation.dbus) throw new GatewayError('GW_ERR_BAD_REQUEST', `${name} moves file contents and is not relayed as one job`);
  const args = toJobArguments(name, operation, raw);
  const { jobId, results } = await context.relay.run({
    operation: name,
    job: operation.dbus,
    args,
    timeoutMs: context.jobTimeouts[name],
    signal: context.signal,
    onJobId: context.onJobId,
  });
  switch (operation.result) {
    case 'none':
      return { kind: 'none' };
    case 'strings':
      return { kind: 'strings', values: results };
    case 'string':
      return { kind: 'string', value: firstResult(name, jobId, results) };
    case 'fileText':
      return { kind: 'string', value: await readResultFile(name, jobId, firstResult(name, jobId, results)) };
    default:
      throw new GatewayError('GW_ERR_RESULT', `${name} answers file contents, which a relayed job cannot`);
  }
}

function firstResult(name: string, jobId: number, results: readonly string[]): string {
  if (results.length === 0 || results[0] === '') {
    throw new GatewayError('GW_ERR_RESULT', `${name} job ${jobId} succeeded but disnix-service named no result path`);
  }
  return results[0];
}

async function readResultFile(name: string, jobId: number, path: string): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_CONFIG_BYTES) throw new Error(`it holds ${size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration may`);
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new GatewayError('GW_ERR_RESULT', `${name} job ${jobId} wrote ${path}, which the gateway cannot read: ${reason}`, { cause: error });
  }
}
