import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { OperationName } from '../protocol/operations';
import type { OperationCall } from './cli';
import { buildEnvelope } from './envelope';
import { faultError, httpError, networkError, notSoapError } from './errors';
import { ResponseFormatError, ResponseReader } from './response';

/** One SOAP request. The body may be a stream so that file transfers need not be buffered. */
export interface SoapRequest {
  readonly url: URL;
  readonly operation: OperationName;
  readonly contentType: string;
  readonly body: string | Readable;
  /** Value of the Authorization header, if any. */
  readonly authorization?: string;
}

/** Calls an operation whose parts are all text; answers the `return` values. */
export function callOperation(url: URL, call: OperationCall, env: NodeJS.ProcessEnv): Promise<readonly string[]> {
  return postSoap({
    url,
    operation: call.operation,
    contentType: 'text/xml; charset=utf-8',
    body: buildEnvelope(call.operation, call.values),
    authorization: basicAuthorization(env),
  });
}

/**
 * HTTP basic credentials from DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD.
 * Without them, credentials in the target URL (http://user:password@host/...) still apply.
 */
export function basicAuthorization(env: NodeJS.ProcessEnv): string | undefined {
  const username = env.DISNIX_SOAP_CLIENT_USERNAME;
  const password = env.DISNIX_SOAP_CLIENT_PASSWORD;
  if (!username && !password) return undefined;
  return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
}

/** POSTs a SOAP request; answers the `return` values, or throws a ClientError saying what went wrong. */
export async function postSoap(request: SoapRequest): Promise<readonly string[]> {
  const { url } = request;
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers: Record<string, string | number> = {
    'Content-Type': request.contentType,
    SOAPAction: '""',
    Accept: 'text/xml, multipart/related',
    Connection: 'close',
  };
  if (typeof request.body === 'string') headers['Content-Length'] = Buffer.byteLength(request.body);
  if (request.authorization !== undefined) headers.Authorization = request.authorization;

  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, { method: 'POST', headers, agent: false }, (response) => {
      readAnswer(request, response).then(resolve, reject);
    });
    outgoing.on('error', (error) => reject(networkError(url, error)));
    if (typeof request.body === 'string') {
      outgoing.end(request.body);
    } else {
      request.body.on('error', (error) => outgoing.destroy(error));
      request.body.pipe(outgoing);
    }
  });
}

const EXCERPT_LENGTH = 200;

function readAnswer(request: SoapRequest, response: IncomingMessage): Promise<readonly string[]> {
  const { url } = request;
  const status = response.statusCode ?? 0;
  const statusText = response.statusMessage ?? '';
  if (status === 401 || status === 404 || (status >= 300 && status < 400)) {
    response.resume();
    return Promise.reject(httpError(url, status, statusText, response.headers.location));
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
