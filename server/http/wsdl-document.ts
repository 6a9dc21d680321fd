import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeXml } from '../../protocol/xml-text';

/** The WSDL sits in wsdl/ next to the sources, and next to the compiled files in dist/. */
export function readWsdl(): string {
  return readFileSync(join(__dirname, '..', '..', 'wsdl', 'DisnixWebService.wsdl'), 'utf8');
}

const SOAP_ADDRESS = /(<soap:address\s+location=")[^"]*(")/;

/** The WSDL as served: its endpoint is the URL this caller used to reach it. */
export function wsdlForAddress(wsdl: string, address: string): string {
  return wsdl.replace(SOAP_ADDRESS, (_match, before: string, after: string) => `${before}${escapeXml(address)}${after}`);
}
