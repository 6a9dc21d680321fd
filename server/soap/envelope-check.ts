import { SaxesParser } from 'saxes';
import { type OperationName, TARGET_NAMESPACE, getOperation, operationNames } from '../../protocol/operations';
import { GatewayError } from '../errors';
import type { ReceivedItem } from '../../protocol/codec/message-reader';
import { isPositionalName } from '../../protocol/codec/positional-parts';
import { isNil } from '../../protocol/codec/soap-stream-reader';
import type { PeekedCall } from '../transfer/request-peek';

/** A request's call as its whole envelope tells it: an operation of the table, and its parts. */
export interface CheckedEnvelope extends PeekedCall {
  readonly operation: OperationName;
  /**
   * The operation element's children as text, in order; undefined when one of them holds
   * elements, which no part of a Disnix call does (the `soap` package reads such requests).
   */
  readonly parts: readonly ReceivedItem[] | undefined;
}

const SOAP11_ENVELOPE = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_ENVELOPE = 'http://www.w3.org/2003/05/soap-envelope';
const OPERATIONS = new Set<string>(operationNames);
/**
 * Disnix envelopes nest 5 deep and headers a few more. saxes resolves each unprefixed name by
 * walking the open tags, so deeply nested input costs quadratic time (32,000 open tags, 96 KB,
 * took 30 s): reading stops at this depth.
 */
const MAX_DEPTH = 32;

/** Thrown from a handler to stop saxes once the request is refused for good. */
class StopReading extends Error {}

/**
 * Reads a whole text/xml request envelope, once. Refuses what must not be read further
 * (malformed XML, DTDs, processing instructions, unknown operations, SOAP 1.2), which the `soap`
 * package would answer with stack traces or SOAP 1.2-shaped faults, and checks scalar parts on
 * their text, since that package turns `maybe` into false and `many` into NaN. Answers the
 * operation, the form of its parts (the Java client's positional form goes to the streaming
 * path) and the parts themselves, from which a document/literal call is answered without a
 * second parse (checked-call.ts).
 */
export function checkEnvelope(xml: string): CheckedEnvelope {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let depth = 0;
  let inBody = false;
  let operation: string | undefined;
  let positional: boolean | undefined;
  let problem: string | undefined;
  let scalar: { part: string; kind: 'boolean' | 'int'; text: string } | undefined;
  let parts: ReceivedItem[] | undefined = [];
  let part: { name: string; text: string; nil: boolean } | undefined;
  const refuse = (message: string) => {
    problem ??= message;
  };
  parser.on('doctype', () => refuse('the request has a DTD; DTDs and entity declarations are not accepted'));
  parser.on('processinginstruction', (pi) => {
    if (pi.target.toLowerCase() !== 'xml') refuse('the request holds a processing instruction, which is not accepted');
  });
  parser.on('opentag', (tag) => {
    depth += 1;
    if (depth > MAX_DEPTH) {
      refuse(`the request nests elements more than ${MAX_DEPTH} deep, which no SOAP call of this service does`);
      throw new StopReading();
    }
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
    } else if (depth === 4 && operation !== undefined && OPERATIONS.has(operation)) {
      positional ??= isPositionalName(tag.local);
      const param = getOperation(operation as OperationName).params.find((p) => p.name === tag.local);
      if (param?.kind === 'boolean' || param?.kind === 'int') scalar = { part: param.name, kind: param.kind, text: '' };
      if (inBody) part = { name: tag.local, text: '', nil: isNil(tag) };
    } else if (depth === 5 && part) {
      parts = undefined;
    }
  });
  const onText = (text: string) => {
    if (scalar) scalar.text += text;
    if (part && depth === 4) part.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (depth === 2) inBody = false;
    if (depth === 4 && scalar) {
      const why = scalarProblem(scalar.kind, scalar.text.trim());
      if (why) refuse(`${operation}: part "${scalar.part}" ${why}, not "${scalar.text.trim().slice(0, 40)}"`);
      scalar = undefined;
    }
    if (depth === 4 && part) {
      parts?.push({ kind: 'text', ...part });
      part = undefined;
    }
    depth -= 1;
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    if (!(error instanceof StopReading)) refuse(`the request is not well-formed XML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (problem === undefined && operation === undefined) refuse('the SOAP body names no operation');
  if (problem !== undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', problem);
  return { operation: operation as OperationName, positional: positional ?? false, parts };
}

function scalarProblem(kind: 'boolean' | 'int', text: string): string | undefined {
  if (kind === 'boolean') return /^(true|false|1|0)$/.test(text) ? undefined : 'must be true or false';
  const value = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
  return Number.isInteger(value) && value >= -(2 ** 31) && value <= 2 ** 31 - 1 ? undefined : 'must be a 32-bit integer';
}
