import { Agent, request } from 'node:http';
import type { OperationName } from '../wsdl/operations';
import type { PartValue } from '../soap-client/cli';
import { buildEnvelope } from '../soap-client/envelope';

/**
 * Calls the gateway over kept-alive HTTP connections, as a busy coordinator or a load balancer
 * in front of it would: the figures are then the gateway's, not TCP handshakes'.
 */
export interface SoapCaller {
  call(operation: OperationName, values: Readonly<Record<string, PartValue>>): Promise<string>;
  close(): void;
}

export function createSoapCaller(url: string, username: string, password: string, connections: number): SoapCaller {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const target = new URL(url);
  // The benchmark sends the same few envelopes over and over; building each once keeps the load
  // generator, which shares the machine's cores with the gateway, from taking CPU the gateway
  // would not lose to a coordinator on another machine.
  const envelopes = new Map<string, string>();
  const envelope = (operation: OperationName, values: Readonly<Record<string, PartValue>>): string => {
    const key = `${operation} ${JSON.stringify(values)}`;
    let body = envelopes.get(key);
    if (body === undefined) {
      body = buildEnvelope(operation, values);
      if (envelopes.size < 100) envelopes.set(key, body);
    }
    return body;
  };
  return {
    call(operation, values) {
      const body = envelope(operation, values);
      const headers = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', Authorization: authorization, 'Content-Length': Buffer.byteLength(body) };
      return new Promise((resolve, reject) => {
        const outgoing = request(target, { method: 'POST', agent, headers }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('error', reject);
          response.on('end', () => {
            if (response.statusCode === 200 && text.includes(`${operation}Response`)) resolve(text);
            else reject(new Error(`${operation}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          });
        });
        outgoing.on('error', reject);
        outgoing.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
