import type { Operation, Part, PartCheck } from '../../protocol/operations';
import { GatewayError } from '../errors';

/** A SOAP stack hands us elements as strings, lists or (for empty wrappers) null. */
export type RawArguments = Record<string, unknown> | null | undefined;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Checks a call's arguments against the operation's parts and converts them to the values
 * D-Bus marshals (strict about `b`, `i` and `as`). Missing, extra and mistyped parts are the
 * caller's mistake and say so.
 */
export function toJobArguments(operationName: string, operation: Operation, raw: RawArguments): unknown[] {
  const args = raw ?? {};
  const known = new Set(operation.params.map((part) => part.name));
  const extra = Object.keys(args).filter((name) => !known.has(name) && name !== 'attributes');
  if (extra.length > 0) {
    throw badRequest(`${operationName} takes no element ${extra.map((n) => `"${n}"`).join(', ')}; its parts are: ${[...known].join(', ') || 'none'}`);
  }
  return operation.params.map((part) => {
    const value = convertPart(operationName, part, args[part.name]);
    const problem = part.check === undefined ? undefined : checkProblem(part.check, value);
    if (problem) throw badRequest(`${operationName}: part "${part.name}" ${problem}`);
    return value;
  });
}

/** A Nix-style name: what Disnix profiles, Dysnomia containers, components and types are. */
const NAME = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;

function checkProblem(check: PartCheck, value: unknown): string | undefined {
  switch (check) {
    case 'name':
      return NAME.test(value as string) ? undefined : `must be a name of letters, digits and + - _ . ? = (not starting with a dot), not "${(value as string).slice(0, 60)}"`;
    case 'nameOrAny':
      return value === '' ? undefined : checkProblem('name', value);
    case 'relativePaths': {
      const bad = (value as string[]).find((path) => path.startsWith('/') || path.split('/').some((segment) => segment === '..' || segment === '.'));
      return bad === undefined ? undefined : `must hold paths relative to the snapshot store, without . or .. segments, not "${bad.slice(0, 60)}"`;
    }
    case 'atLeastOne':
      return (value as number) >= 1 ? undefined : `must be at least 1, not ${value} (disnix-service would delete every snapshot)`;
  }
}

function convertPart(operationName: string, part: Part, value: unknown): unknown {
  const where = `${operationName}: part "${part.name}"`;
  switch (part.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (value === undefined || value === null) throw badRequest(`${where} is missing`);
      // A repeated element comes as a list from every reader of document/literal requests.
      if (Array.isArray(value) && value.every((item) => typeof item === 'string' || item === null)) throw badRequest(`${where} is given more than once`);
      throw badRequest(`${where} must be a string, not a structure`);
    case 'strings': {
      const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
      const wrong = list.find((item) => typeof item !== 'string');
      if (wrong !== undefined) throw badRequest(`${where} must be a list of strings`);
      return list;
    }
    case 'boolean':
      if (value === true || value === 'true' || value === '1') return true;
      if (value === false || value === 'false' || value === '0') return false;
      throw badRequest(`${where} must be true or false, not ${describe(value)}`);
    case 'int': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && /^[-+]?\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isInteger(number) || number < INT32_MIN || number > INT32_MAX) {
        throw badRequest(`${where} must be a 32-bit integer, not ${describe(value)}`);
      }
      return number;
    }
    case 'file':
    case 'files':
      throw badRequest(`${where} carries file content, which this operation cannot take here`);
  }
}

function describe(value: unknown): string {
  return value === undefined || value === null ? 'nothing' : typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
}

function badRequest(message: string): GatewayError {
  return new GatewayError('GW_ERR_BAD_REQUEST', message);
}
