import type { IncomingMessage } from 'node:http';
import type { OperationName } from '../protocol/operations';
import type { OperationCall } from './cli';
import { type Connection, watchRequest } from './connection';
import { buildEnvelope } from './envelope';
import { faultError, httpError, networkError, notSoapError, statusError } from './errors';

/** One SOAP request whose parts are all text (transfers go through transfer-http). */
interface SoapRequest extends Connection {
  readonly operation: OperationName;
  readonly body: string;
}

/** Calls an operation whose parts are all text; answers the `return` values. */
export function callOperation(connection: Connection, call: OperationCall): Promise<readonly string[]> {
  return postSoap({
    ...connection,
    operation: call.operation,
    body: buildEnvelope(call.operation, call.values),
  });
}

/** POSTs a SOAP request; answers the `return` values, or throws a ClientError saying what went wrong. */
async function postSoap(request: SoapRequest): Promise<readonly string[]> {
  const { url } = request;
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/xml; charset=utf-8',
    'Content-Length': Buffer.byteLength(request.body),
    SOAPAction: '""',
    Accept: 'text/xml, multipart/related',
    Connection: 'close',
  };
  if (request.authorization !== undefined) headers.Authorization = request.authorization;

  // The answer's XML parser (saxes) is loaded once the request is out, while the gateway works on
  // it, rather than before the request goes out. A CommonJS import() settles within the current
  // turn, before any further network event, so the answer's events cannot be missed.
  let reader: Promise<typeof import('./response')> | undefined;
  const loadReader = () => (reader ??= import('./response'));
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, { method: 'POST', headers, agent: false }, (response) => {
      loadReader()
        .then((module) => readAnswer(module, request, response))
        .then(resolve, reject);
    });
    outgoing.on('error', (error) => reject(networkError(url, error)));
    outgoing.once('finish', () => void loadReader());
    watchRequest(outgoing, request.timeouts);
    outgoing.end(request.body);
  });
}

const EXCERPT_LENGTH = 200;

function readAnswer(
  { ResponseFormatError, ResponseReader }: typeof import('./response'),
  request: SoapRequest,
  response: IncomingMessage,
): Promise<readonly string[]> {
  const { url } = request;
  const status = response.statusCode ?? 0;
  const statusText = response.statusMessage ?? '';
  const early = statusError(request, response);
  if (early !== undefined) {
    response.resume();
    return Promise.reject(early);
  }
  const reader = new ResponseReader(request.operation);
  let start = '';
  response.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    response.on('data', (chunk: string) => {
      if (start.length < EXCERPT_LENGTH) start += chunk.slice(0, EXCERPT_LENGTH);
      reader.write(chunk);
    });
    response.on('error', (error) => reject(networkError(url, error)));
    response.on('end', () => {
      try {
        const answer = reader.finish();
        if (answer.kind === 'fault') reject(faultError(answer.faultstring, answer.faultcode));
        else if (status < 200 || status >= 300) reject(httpError(url, status, statusText));
        else resolve(answer.returns);
      } catch (error) {
        if (!(error instanceof ResponseFormatError)) reject(error);
        else if (status !== 200) reject(httpError(url, status, statusText));
        else reject(notSoapError(url, status, response.headers['content-type'] ?? '', error.message, start));
      }
    });
  });
}
