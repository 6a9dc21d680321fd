import type { Request, Response } from 'express';
import { type OperationName, SERVICE_NAME, operationNames } from '../../protocol/operations';
import type { RawArguments } from '../operations/operation-arguments';
import type { OperationResult } from '../operations/relay-operation';
import { type RelayedCallDeps, runRelayedCall } from '../operations/run-relayed-call';
import { faultFor } from './soap-faults';

export const PORT_NAME = 'DisnixWebServiceHttpSoap11Endpoint';

type SoapHandler = (args: RawArguments, callback: unknown, headers: unknown, req: Request, res: Response) => Promise<object>;

export type SoapServiceDeps = RelayedCallDeps;

/** The service object the `soap` package dispatches to: one handler per table operation. */
export function createSoapService(deps: SoapServiceDeps): Record<string, Record<string, Record<string, SoapHandler>>> {
  const handlers = Object.fromEntries(operationNames.map((name) => [name, createHandler(name, deps)]));
  return { [SERVICE_NAME]: { [PORT_NAME]: handlers } };
}

function createHandler(name: OperationName, deps: SoapServiceDeps): SoapHandler {
  return async (args, _callback, _headers, req, res) => {
    try {
      return toSoapResponse(await runRelayedCall(name, args, req, res, deps));
    } catch (error) {
      throw faultFor(error);
    }
  };
}

function toSoapResponse(result: OperationResult): object {
  switch (result.kind) {
    case 'none':
      return {};
    case 'string':
      return { return: result.value };
    case 'strings':
      return { return: [...result.values] };
  }
}
