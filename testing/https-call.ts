import { request } from 'node:https';

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export interface HttpsCallOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The CA certificate (PEM) to trust. */
  readonly ca: string | Buffer;
  /** Connect from this local address, e.g. 127.0.0.2, to tell the client from the proxy. */
  readonly localAddress?: string;
}

/** One HTTPS request, as a browser or a third-party SOAP stack would send it. */
export function httpsCall(url: string, options: HttpsCallOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, ca: options.ca, localAddress: options.localAddress, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export function soapAddressOf(wsdl: string): string | undefined {
  return /<soap:address location="([^"]*)"/.exec(wsdl)?.[1];
}
