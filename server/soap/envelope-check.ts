import { SaxesParser } from 'saxes';
import { TARGET_NAMESPACE, operationNames } from '../../wsdl/operations';
import { GatewayError } from '../errors';

const SOAP11_ENVELOPE = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_ENVELOPE = 'http://www.w3.org/2003/05/soap-envelope';
const OPERATIONS = new Set<string>(operationNames);

/**
 * Reads a request envelope once before the `soap` package does, because that package answers
 * malformed XML, unknown operations and DTDs with stack traces or SOAP 1.2-shaped faults.
 * Answers the operation the body asks for.
 */
export function checkEnvelope(xml: string): string {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let depth = 0;
  let inBody = false;
  let operation: string | undefined;
  let problem: string | undefined;
  const refuse = (message: string) => {
    problem ??= message;
  };
  parser.on('doctype', () => refuse('the request has a DTD; DTDs and entity declarations are not accepted'));
  parser.on('processinginstruction', (pi) => {
    if (pi.target.toLowerCase() !== 'xml') refuse('the request holds a processing instruction, which is not accepted');
  });
  parser.on('opentag', (tag) => {
    depth += 1;
    if (depth === 1) {
      if (tag.local !== 'Envelope' || (tag.uri !== SOAP11_ENVELOPE && tag.uri !== SOAP12_ENVELOPE)) {
        refuse(`the request is not a SOAP envelope (its root element is <${tag.name}>)`);
      } else if (tag.uri === SOAP12_ENVELOPE) {
        refuse('SOAP 1.2 is not served here; send a SOAP 1.1 envelope (see the WSDL)');
      }
    } else if (depth === 2 && tag.local === 'Body' && tag.uri === SOAP11_ENVELOPE) {
      inBody = true;
    } else if (depth === 3 && inBody && operation === undefined) {
      if (tag.uri !== TARGET_NAMESPACE) refuse(`the body element <${tag.name}> is not in the namespace ${TARGET_NAMESPACE}`);
      else if (!OPERATIONS.has(tag.local)) refuse(`there is no operation "${tag.local}"; the WSDL lists them`);
      operation = tag.local;
    }
  });
  parser.on('closetag', () => {
    if (depth === 2) inBody = false;
    depth -= 1;
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    refuse(`the request is not well-formed XML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (problem === undefined && operation === undefined) refuse('the SOAP body names no operation');
  if (problem !== undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', problem);
  return operation!;
}
