import type { Request, Response } from 'express';
import { type OperationName, getOperation } from '../../protocol/operations';
import type { RawArguments } from '../operations/operation-arguments';
import { type RelayedCallDeps, runRelayedCall } from '../operations/run-relayed-call';
import type { ReceivedItem } from '../../protocol/codec/message-reader';
import { resultElements } from '../transfer/relayed-call';
import { responseSegments } from '../transfer/soap-reply';
import type { CheckedEnvelope } from './envelope-check';
import { faultEnvelope, faultFor } from './soap-faults';

/** A document/literal call whose parts the envelope check has read. */
export type ReadCall = CheckedEnvelope & { readonly parts: readonly ReceivedItem[] };

export function isReadCall(call: CheckedEnvelope): call is ReadCall {
  return call.parts !== undefined;
}

/**
 * Answers a document/literal call from the one parse of the envelope check, instead of handing
 * the body to the `soap` package for a second parse and its object mapping: on the busiest path
 * that pair cost a third of the gateway's CPU per call. The answer is what the `soap` package
 * sends for these messages: `tns:return` elements, Faults with the error's HTTP status.
 */
export async function answerReadCall(call: ReadCall, req: Request, res: Response, deps: RelayedCallDeps): Promise<void> {
  let status: number;
  let xml: string;
  try {
    const result = await runRelayedCall(call.operation, partArguments(call.operation, call.parts), req, res, deps);
    status = 200;
    xml = responseSegments(call.operation, resultElements(result)).join('');
  } catch (error) {
    const { Fault } = faultFor(error);
    status = Fault.statusCode;
    xml = faultEnvelope(Fault);
  }
  if (res.headersSent || res.destroyed) return;
  // Not res.send: its ETag would hash every answer, for callers that never revalidate a POST.
  res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/**
 * The parts as the `soap` package hands them to a handler: a string per element, a list where
 * one repeats, `null` for xsi:nil, nothing for an absent one (the job's argument check then
 * names what is missing, extra or mistyped). A list part is always a list, its nils left out.
 */
function partArguments(operation: OperationName, parts: readonly ReceivedItem[]): RawArguments {
  const params = getOperation(operation).params;
  const args: Record<string, unknown> = {};
  for (const part of parts) {
    if (part.kind !== 'text') continue;
    const value = part.nil ? null : part.text;
    const isList = params.find((param) => param.name === part.name)?.kind === 'strings';
    const earlier = args[part.name];
    if (isList) args[part.name] = [...((earlier as string[] | undefined) ?? []), ...(value === null ? [] : [value])];
    else args[part.name] = earlier === undefined ? value : [earlier, value].flat();
  }
  return args;
}
