import { DEFAULT_SERVICE_PATH } from '../protocol/operations';

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

/** The one place that turns a failed connection into a message. */
export function networkError(url: URL, error: unknown): ClientError {
  const endpoint = describeEndpoint(url);
  const code = errorCode(error);
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
