import * as soap from 'soap';
import { TARGET_NAMESPACE } from '../protocol/operations';

/**
 * Calls the gateway the way a third-party stack does: the `soap` package's client, built from
 * the WSDL the gateway serves.
 */
export interface SoapTestClient {
  /** Resolves with the `return` values (always a list), or rejects with a FaultError. */
  call(operation: string, args: Record<string, unknown>): Promise<string[]>;
  /** Resolves with the Fault's faultstring; fails the test if the call succeeded. */
  fault(operation: string, args: Record<string, unknown>): Promise<string>;
}

export class FaultError extends Error {
  constructor(
    readonly faultcode: string,
    readonly faultstring: string,
    readonly status: number | undefined,
  ) {
    super(`SOAP Fault ${faultcode}: ${faultstring}`);
  }
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function createSoapTestClient(url: string, username: string, password: string): Promise<SoapTestClient> {
  const client = await soap.createClientAsync(`${url}?wsdl`, {
    wsdl_headers: { Authorization: basicAuthHeader(username, password) },
  });
  client.setSecurity(new soap.BasicAuthSecurity(username, password));
  const call = async (operation: string, args: Record<string, unknown>): Promise<string[]> => {
    const method = (client as unknown as Record<string, (a: unknown) => Promise<[{ return?: unknown } | null]>>)[`${operation}Async`];
    if (!method) throw new Error(`the WSDL has no operation ${operation}`);
    try {
      const [result] = await method.call(client, args);
      const value = result?.return;
      return value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
    } catch (error) {
      const fault = (error as { root?: { Envelope?: { Body?: { Fault?: { faultcode?: string; faultstring?: string } } } }; response?: { status?: number } })
        .root?.Envelope?.Body?.Fault;
      if (fault) throw new FaultError(String(fault.faultcode), String(fault.faultstring), (error as { response?: { status?: number } }).response?.status);
      throw error;
    }
  };
  return {
    call,
    async fault(operation, args) {
      try {
        const result = await call(operation, args);
        throw new Error(`${operation} succeeded with ${JSON.stringify(result)} where a Fault was expected`);
      } catch (error) {
        if (error instanceof FaultError) return error.faultstring;
        throw error;
      }
    },
  };
}

/** A document/literal request with the given body content, for requests no SOAP stack would build. */
export function envelope(operation: string, inner: string): string {
  return (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
    `<ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">${inner}</ns:${operation}></soapenv:Body></soapenv:Envelope>`
  );
}
