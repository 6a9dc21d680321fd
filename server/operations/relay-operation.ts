import { open } from 'node:fs/promises';
import { returnElement } from '../../protocol/codec/soap-envelope';
import type { Segment } from '../../protocol/codec/message-writer';
import { type OperationName, getOperation } from '../../protocol/operations';
import { type CheckedArguments, jobArguments } from './operation-arguments';
import { GatewayError } from '../errors/error-catalogue';
import { type OperationContext, runJob } from './operation-context';

/** A captured configuration is a small Nix expression; anything far larger is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Runs an operation that is one disnix-service job; answers its result as `return` elements. */
export async function relayOperation(name: OperationName, args: CheckedArguments, context: OperationContext): Promise<Segment[]> {
  const { jobId, results } = await runJob(context, name, name, jobArguments(args), true);
  switch (getOperation(name).result) {
    case 'none':
      return [];
    case 'strings':
      return results.map(returnElement);
    case 'string':
      return [returnElement(firstResult(name, jobId, results))];
    case 'fileText':
      return [returnElement(await readResultFile(name, jobId, firstResult(name, jobId, results)))];
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
