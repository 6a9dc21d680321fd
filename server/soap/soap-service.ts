import type { Request, Response } from 'express';
import { type OperationName, SERVICE_NAME, isRelayed, operationNames } from '../../wsdl/operations';
import type { JobTimeouts } from '../config/job-timeouts';
import type { JobRelay } from '../dbus/job-relay';
import { GatewayError } from '../errors';
import type { CallContext, RecordedCall } from '../jobs-page/job-history';
import type { Logger } from '../logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { reportCall, userOf, watchCall } from '../operations/call-report';
import { type OperationResult, relayOperation } from '../operations/relay-operation';
import type { RawArguments } from '../operations/operation-arguments';
import { faultFor } from './soap-faults';

export const PORT_NAME = 'DisnixWebServiceHttpSoap11Endpoint';

type SoapHandler = (args: RawArguments, callback: unknown, headers: unknown, req: Request, res: Response) => Promise<object>;

export interface SoapServiceDeps {
  readonly relay: JobRelay;
  readonly jobTimeouts: JobTimeouts;
  readonly logger: Logger;
  /** Told of every call as it comes in: the jobs page's history. */
  readonly calls?: { callStarted(call: CallContext): RecordedCall };
  readonly metrics?: Pick<GatewayMetrics, 'countCall'>;
}

/** The service object the `soap` package dispatches to: one handler per table operation. */
export function createSoapService(deps: SoapServiceDeps): Record<string, Record<string, Record<string, SoapHandler>>> {
  const handlers = Object.fromEntries(operationNames.map((name) => [name, createHandler(name, deps)]));
  return { [SERVICE_NAME]: { [PORT_NAME]: handlers } };
}

function createHandler(name: OperationName, deps: SoapServiceDeps): SoapHandler {
  return async (args, _callback, _headers, req, res) => {
    const watch = watchCall(res);
    let jobId: number | undefined;
    const call = { operation: name, user: userOf(req), client: req.ip };
    const recorded = deps.calls?.callStarted({ ...call, args });
    try {
      if (!isRelayed(name)) {
        throw new GatewayError('GW_ERR_BAD_REQUEST', `${name} moves file contents: send it as MTOM, or as text/xml whose body begins within the first 64 KiB`);
      }
      const result = await relayOperation(name, args, {
        relay: deps.relay,
        jobTimeouts: deps.jobTimeouts,
        signal: watch.signal,
        onJobId: (id) => {
          jobId = id;
          recorded?.jobId(id);
        },
      });
      reportCall(deps, name, watch.elapsedMs(), { ...call, jobId });
      recorded?.ended();
      return toSoapResponse(result);
    } catch (error) {
      recorded?.ended(error);
      reportCall(deps, name, watch.elapsedMs(), { ...call, jobId }, error);
      throw faultFor(error);
    } finally {
      watch.release();
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
