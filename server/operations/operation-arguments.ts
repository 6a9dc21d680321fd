import type { ReceivedFile, ReceivedItem } from '../../protocol/codec/message-reader';
import { type ArgumentsOf, type OperationName, type Part, type PartCheck, getOperation } from '../../protocol/operations';
import { GatewayError } from '../errors/error-catalogue';

/** A checked argument: the value the operation's part takes (see PartValues). */
export type ArgumentValue = string | readonly string[] | boolean | number | ReceivedFile | readonly ReceivedFile[];

/** A call's checked arguments, by part, in the table's order. */
export type CheckedArguments = ReadonlyMap<string, ArgumentValue>;

/** The checked arguments of one operation, typed by its parts. */
export function argumentsOf<N extends OperationName>(_operation: N, checked: CheckedArguments): ArgumentsOf<N, ReceivedFile> {
  return Object.fromEntries(checked) as ArgumentsOf<N, ReceivedFile>;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The one check of a call's arguments, whatever form they came in: each part of the table is
 * there as often as it may be and of its kind, no other part is, and its value passes the
 * part's check. disnix-service checks none of this itself and builds file paths from these
 * values, so a call that fails here runs no job.
 *
 * xsi:nil means null: a null scalar is "" where the part takes "" for "any" (container,
 * component: the Java client sends null when none was given), and refused elsewhere; null
 * elements of a list are left out. Missing, extra and mistyped parts are the caller's mistake and
 * say so, naming the part.
 */
export function checkArguments(operation: OperationName, items: readonly ReceivedItem[]): CheckedArguments {
  const params = getOperation(operation).params;
  const unknown = [...new Set(items.filter((item) => !params.some((part) => part.name === item.name)).map((item) => item.name))];
  if (unknown.length > 0) {
    const names = params.map((part) => part.name).join(', ') || 'none';
    throw badRequest(`${operation} takes no element ${unknown.map((name) => `"${name}"`).join(', ')}; its parts are: ${names}`);
  }
  const checked = new Map<string, ArgumentValue>();
  for (const part of params) {
    const where = `${operation}: part "${part.name}"`;
    const value = convert(
      where,
      part,
      items.filter((item) => item.name === part.name),
    );
    const problem = part.check === undefined ? undefined : checkProblem(part.check, value);
    if (problem) throw badRequest(`${where} ${problem}`);
    checked.set(part.name, value);
  }
  return checked;
}

/** The values D-Bus marshals for a relayed operation's job: the arguments in the table's order. */
export function jobArguments(checked: CheckedArguments): unknown[] {
  return [...checked.values()];
}

function convert(where: string, part: Part, items: readonly ReceivedItem[]): ArgumentValue {
  switch (part.kind) {
    case 'strings':
      return items.flatMap((item) => {
        if (item.kind !== 'text' || item.structured) throw badRequest(`${where} must be a list of strings`);
        return item.nil ? [] : [item.text];
      });
    case 'files':
      return items.map((item) => fileOf(where, item));
    case 'file':
      return fileOf(where, single(where, items, 'is missing'));
    case 'string': {
      const text = textOf(where, single(where, items, 'is missing'), 'must be a string');
      if (text !== null) return text;
      if (part.check === 'nameOrAny') return '';
      throw badRequest(`${where} is null (xsi:nil), but it needs a value`);
    }
    case 'boolean': {
      const text = nonNull(where, textOf(where, single(where, items, 'must be true or false, not nothing'), 'must be true or false'));
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw badRequest(`${where} must be true or false, not "${text.slice(0, 40)}"`);
    }
    case 'int': {
      const text = nonNull(where, textOf(where, single(where, items, 'must be a 32-bit integer, not nothing'), 'must be a 32-bit integer'));
      const number = /^[-+]?\d+$/.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isInteger(number) || number < INT32_MIN || number > INT32_MAX)
        throw badRequest(`${where} must be a 32-bit integer, not "${text.slice(0, 40)}"`);
      return number;
    }
  }
}

function single(where: string, items: readonly ReceivedItem[], absent: string): ReceivedItem {
  if (items.length === 0) throw badRequest(`${where} ${absent}`);
  if (items.length > 1) throw badRequest(`${where} is given more than once`);
  return items[0];
}

/** The text of a scalar part; null for xsi:nil. */
function textOf(where: string, item: ReceivedItem, mustBe: string): string | null {
  if (item.kind !== 'text') throw badRequest(`${where} ${mustBe}`);
  if (item.structured) throw badRequest(`${where} ${mustBe}, not a structure`);
  return item.nil ? null : item.text;
}

function nonNull(where: string, text: string | null): string {
  if (text === null) throw badRequest(`${where} is null (xsi:nil), but it needs a value`);
  return text;
}

function fileOf(where: string, item: ReceivedItem): ReceivedFile {
  if (item.kind !== 'file') throw badRequest(`${where} must hold file contents`);
  return item.file;
}

/** A Nix-style name: what Disnix profiles, Dysnomia containers, components and types are. */
const NAME = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;

function checkProblem(check: PartCheck, value: ArgumentValue): string | undefined {
  switch (check) {
    case 'name':
      return NAME.test(value as string)
        ? undefined
        : `must be a name of letters, digits and + - _ . ? = (not starting with a dot), not "${(value as string).slice(0, 60)}"`;
    case 'nameOrAny':
      return value === '' ? undefined : checkProblem('name', value);
    case 'relativePaths': {
      const bad = (value as string[]).find((path) => path.startsWith('/') || path.split('/').some((segment) => segment === '..' || segment === '.'));
      return bad === undefined ? undefined : `must hold paths relative to the snapshot store, without . or .. segments, not "${bad.slice(0, 60)}"`;
    }
    case 'notNegative':
      // 0 asks Dysnomia to keep no generation (as over SSH); a negative count is no request at all.
      return (value as number) >= 0 ? undefined : `must be 0 or more, not ${value}`;
  }
}

export function badRequest(message: string): GatewayError {
  return new GatewayError('GW_ERR_BAD_REQUEST', message);
}
