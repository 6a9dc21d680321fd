import { errorCodes, isGatewayError } from '../errors';

/** The shape the `soap` package turns into a SOAP 1.1 Fault with the given HTTP status. */
export interface SoapFault {
  Fault: { faultcode: string; faultstring: string; statusCode: number };
}

/**
 * The one place where errors become SOAP Faults. The `soap:` prefix is the one the `soap`
 * package declares on its envelope, so the faultcode QName resolves for strict readers.
 */
export function faultFor(error: unknown): SoapFault {
  if (isGatewayError(error)) {
    const { faultcode, statusCode } = errorCodes[error.code];
    return { Fault: { faultcode: `soap:${faultcode}`, faultstring: error.message, statusCode } };
  }
  return { Fault: { faultcode: 'soap:Server', faultstring: 'internal error in the gateway; its log has the details', statusCode: 500 } };
}

export function isSoapFault(value: unknown): value is SoapFault {
  return typeof value === 'object' && value !== null && 'Fault' in value;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/**
 * A Fault for requests refused before the `soap` package sees them (unreadable XML, a DTD,
 * an unknown operation), in the same SOAP 1.1 shape the package produces.
 */
export function faultEnvelope(fault: SoapFault['Fault']): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>' +
    `<faultcode>${escapeXml(fault.faultcode)}</faultcode><faultstring>${escapeXml(fault.faultstring)}</faultstring>` +
    '</soap:Fault></soap:Body></soap:Envelope>'
  );
}
