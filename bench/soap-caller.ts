import { Pool } from 'undici';
import type { OperationName } from '../protocol/operations';
import type { PartValue } from '../soap-client/cli';
import { buildEnvelope } from '../soap-client/envelope';

/**
 * Calls the gateway over kept-alive HTTP connections, as a busy coordinator or a load balancer
 * in front of it would: the figures are then the gateway's, not TCP handshakes'.
 */
export interface SoapCaller {
  call(operation: OperationName, values: Readonly<Record<string, PartValue>>): Promise<string>;
  /** Closes every connection, so that neither the next measurement nor the process's exit waits on them. */
  close(): Promise<void>;
}

/**
 * undici rather than node:http: the load generator shares this machine's two cores with the
 * gateway, and Node's http client cost about 0.3 ms of CPU per call here, taken from the gateway
 * it was measuring. One request per connection at a time (no pipelining), as a coordinator makes
 * its calls, so `connections` is the number of concurrent callers.
 */
export function createSoapCaller(url: string, username: string, password: string, connections: number): SoapCaller {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const path = `${target.pathname}${target.search}`;
  const headers = {
    'content-type': 'text/xml; charset=utf-8',
    soapaction: '""',
    authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  };
  // The benchmark sends the same few envelopes over and over; building each once keeps the load
  // generator, which shares the machine's cores with the gateway, from taking CPU the gateway
  // would not lose to a coordinator on another machine.
  const envelopes = new Map<string, Buffer>();
  const envelope = (operation: OperationName, values: Readonly<Record<string, PartValue>>): Buffer => {
    const key = `${operation} ${JSON.stringify(values)}`;
    let body = envelopes.get(key);
    if (body === undefined) {
      body = Buffer.from(buildEnvelope(operation, values));
      if (envelopes.size < 100) envelopes.set(key, body);
    }
    return body;
  };
  return {
    async call(operation, values) {
      const response = await pool.request({ path, method: 'POST', headers, body: envelope(operation, values) });
      const text = await response.body.text();
      if (response.statusCode === 200 && text.includes(`${operation}Response`)) return text;
      throw new Error(`${operation}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    },
    close: () => pool.destroy(),
  };
}
