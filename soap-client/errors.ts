import type { IncomingMessage } from 'node:http';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { type Connection, TimeoutError } from './connection';

/**
 * Every failure the client reports: a message for a person (one or two lines, no stack
 * trace) and the process exit status. The client exits 0 on success and 1 on any failure,
 * as `disnix-client` and the original `disnix-soap-client` do: the coordinator only tells
 * zero from non-zero.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The command line itself is wrong; the message ends with a pointer to `--help`. */
export function usageError(message: string): ClientError {
  return new ClientError(`${message}\nTry 'disnix-soap-client --help' for the operations and options.`);
}

/** `host:port` of a target, with the scheme's default port spelled out. */
export function describeEndpoint(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/** Failures to connect at all, and what they mean. */
const connectErrors: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused; is the gateway running on that port?',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed temporarily',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
};

/** Failures of a connection that was made. */
const connectionErrors: Readonly<Record<string, string>> = {
  ECONNRESET: 'the connection was closed before the answer was complete',
  EPIPE: 'the connection was closed while sending the request',
};

/** Certificate problems: Node names them by OpenSSL's codes. */
const certificateErrors = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(error: unknown): string | undefined {
  const withCode = error as { code?: unknown; errors?: unknown[] };
  if (typeof withCode?.code === 'string') return withCode.code;
  // Node's happy-eyeballs connect reports every failed address in an AggregateError.
  const first = withCode?.errors?.[0] as { code?: unknown } | undefined;
  return typeof first?.code === 'string' ? first.code : undefined;
}

/** A limit of length such as `0.5 s`, `30 s` or `10 min`. */
function describeMs(ms: number): string {
  const seconds = ms / 1000;
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function timeoutError(url: URL, error: TimeoutError): ClientError {
  const endpoint = describeEndpoint(url);
  if (error.kind === 'connect') {
    return new ClientError(
      `cannot reach the gateway at ${endpoint}: no connection within ${describeMs(error.ms)} (the connect timeout)\n` +
        'Check that the host is up and the port open; a slow network may need a longer --connect-timeout or DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT.',
    );
  }
  return new ClientError(
    `the connection to the gateway at ${endpoint} stalled: nothing moved for ${describeMs(error.ms)} while ${error.during === 'sending' ? 'sending the request' : 'receiving the answer'} (the idle timeout)\n` +
      'Check the network and the gateway; --idle-timeout or DISNIX_SOAP_CLIENT_IDLE_TIMEOUT sets the limit, 0 removes it.',
  );
}

/** An https:// target whose port answers in plain HTTP: OpenSSL calls the HTTP text a "wrong version number". */
function speaksPlainHttp(url: URL, code: string | undefined, error: unknown): boolean {
  if (url.protocol !== 'https:') return false;
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (code === 'EPROTO' && /wrong version number/i.test(String((error as Error)?.message)));
}

/** The one place that turns a failed connection into a message. */
export function networkError(url: URL, error: unknown): ClientError {
  const endpoint = describeEndpoint(url);
  if (error instanceof TimeoutError) return timeoutError(url, error);
  const code = errorCode(error);
  if (speaksPlainHttp(url, code, error)) {
    // Without the user and password the URL may hold: messages end up in logs.
    const plain = `http://${url.host}${url.pathname}${url.search}`;
    return new ClientError(
      `cannot connect to the gateway at ${endpoint} over TLS: the target speaks plain HTTP on that port\nUse ${plain} as the target, or the port that serves https://.`,
    );
  }
  if (code !== undefined && certificateErrors.has(code)) {
    return new ClientError(
      `cannot connect to the gateway at ${endpoint}: its TLS certificate is not trusted (${code})\n` +
        'Put the certificate of its CA in a PEM file and point NODE_EXTRA_CA_CERTS at it.',
    );
  }
  if (code !== undefined && Object.hasOwn(connectionErrors, code)) {
    return new ClientError(`the connection to the gateway at ${endpoint} failed: ${connectionErrors[code]} (${code})`);
  }
  const explanation = (code && Object.hasOwn(connectErrors, code) && connectErrors[code]) || (error instanceof Error && error.message) || String(error);
  return new ClientError(`cannot reach the gateway at ${endpoint}: ${explanation}${code ? ` (${code})` : ''}`);
}

/**
 * The answers that carry no SOAP message to read (authentication, rate limit, wrong path,
 * redirect), as errors; undefined for the others, whose body is read.
 */
export function statusError(
  connection: Pick<Connection, 'url' | 'authorization'>,
  response: Pick<IncomingMessage, 'statusCode' | 'statusMessage' | 'headers'>,
  now = Date.now(),
): ClientError | undefined {
  const { url } = connection;
  const status = response.statusCode ?? 0;
  if (status === 401 && connection.authorization === undefined) {
    return new ClientError(
      `the gateway at ${describeEndpoint(url)} asks for credentials (HTTP 401 Unauthorized) and none are set\n` +
        'Set DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD (or DISNIX_SOAP_CLIENT_PASSWORD_FILE), or give them in the target URL.',
    );
  }
  if (status === 429) return tooManyRequestsError(url, response.headers['retry-after'], now);
  if (status === 401 || status === 404 || (status >= 300 && status < 400))
    return httpError(url, status, response.statusMessage ?? '', response.headers.location);
  return undefined;
}

/** HTTP 429: the gateway's limit on refused logins (or a proxy's rate limit); Retry-After says for how long. */
export function tooManyRequestsError(url: URL, retryAfter: string | undefined, now = Date.now()): ClientError {
  const seconds = retryAfterSeconds(retryAfter, now);
  const when = seconds === undefined ? 'later' : `in ${seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`}`;
  return new ClientError(
    `the gateway at ${describeEndpoint(url)} turns this client away for now (HTTP 429 Too Many Requests), as a rule after too many refused logins from this address\n` +
      `Try again ${when}, with credentials it accepts (DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD).`,
  );
}

/** Retry-After is either a number of seconds or an HTTP date. */
function retryAfterSeconds(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The one place that turns an HTTP status without a SOAP answer into a message. */
export function httpError(url: URL, status: number, statusText: string, location?: string): ClientError {
  const endpoint = describeEndpoint(url);
  switch (status) {
    case 401:
      return new ClientError(
        `the gateway at ${endpoint} refused the credentials (HTTP 401 Unauthorized)\n` +
          'Set DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD to an account it accepts.',
      );
    case 403:
      return new ClientError(`the gateway at ${endpoint} accepted the credentials but denies access (HTTP 403 Forbidden)`);
    case 404:
      return new ClientError(
        `the gateway at ${endpoint} has no service at ${url.pathname} (HTTP 404 Not Found): the endpoint path looks wrong\n` +
          `The service usually lives at ${url.protocol}//${url.host}${DEFAULT_SERVICE_PATH}`,
      );
    default: {
      const redirect = location ? `; it points to ${location}, use that URL as the target` : '';
      return new ClientError(`the gateway at ${endpoint} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} instead of a SOAP response${redirect}`);
    }
  }
}

/** The gateway answered a SOAP Fault: its faultstring is the job log, or the gateway's own explanation. */
export function faultError(faultstring: string, faultcode: string): ClientError {
  if (faultstring.trim() === '') {
    return new ClientError(`the gateway answered a SOAP Fault without a message${faultcode ? ` (faultcode ${faultcode})` : ''}`);
  }
  return new ClientError(faultstring.replace(/\s+$/, ''));
}

/** The gateway answered, but not with SOAP: show enough of it to recognise what answered instead. */
export function notSoapError(url: URL, status: number, contentType: string, reason: string, start: string): ClientError {
  const excerpt = start.replace(/\s+/g, ' ').trim().slice(0, 120);
  return new ClientError(
    `the answer of ${describeEndpoint(url)} (HTTP ${status}, ${contentType || 'no content type'}) is not a SOAP response: ${reason}` +
      (excerpt ? `\nIt starts with: ${excerpt}` : ''),
  );
}

/** What went wrong with a local file, in plain words, by its error code. */
const fileProblems: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied: this user may not read it',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of its path is not a directory',
  ELOOP: 'its path has too many symbolic links (a loop?)',
  ENAMETOOLONG: 'its name is too long',
  EIO: 'the disk reported an input/output error',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many files are open',
};

export function fileProblem(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code !== undefined && Object.hasOwn(fileProblems, code)) return fileProblems[code];
  return code ?? message ?? String(error);
}

/** A local file that failed while the request was being sent; other failures of the request body keep their message. */
export function sendError(error: unknown): ClientError {
  const { path, code } = error as NodeJS.ErrnoException;
  if (typeof path === 'string' && code !== undefined) return new ClientError(`cannot read ${path}: ${fileProblem(error)}`);
  return new ClientError(`cannot send the request: ${error instanceof Error ? error.message : String(error)}`);
}
