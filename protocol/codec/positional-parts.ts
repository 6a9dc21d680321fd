import type { Part } from '../operations';

/**
 * The parts of a request in the original Java client's form (Axis2's RPCServiceClient): its
 * children are unqualified and named by position, not by part. Axis2 numbers them with a count
 * of the arguments written so far: a scalar is `arg{n}`, each element of an array `item{n}`,
 * and then n advances; an empty array writes nothing (so its number is simply skipped). A null
 * argument is `item{n}` with xsi:nil and does NOT advance n: after a null, every later number is
 * one lower than its argument's position. Numbers, not order, decide, so that an empty array in
 * the middle cannot shift the parts after it.
 */
const POSITIONAL_NAME = /^(?:arg|item)(\d+)$/;

export function isPositionalName(local: string): boolean {
  return POSITIONAL_NAME.test(local);
}

export class PositionalParts {
  readonly #params: readonly Part[];
  #nulls = 0;

  constructor(params: readonly Part[]) {
    this.#params = params;
  }

  /** The part of the next child in document order; undefined when its number names none. */
  partOf(local: string, nil: boolean): Part | undefined {
    const match = POSITIONAL_NAME.exec(local);
    if (!match) return undefined;
    const part = this.#params[Number(match[1]) + this.#nulls];
    // A nil on a list part is one of its elements (or the null list itself, always last here).
    if (part !== undefined && nil && !isList(part)) this.#nulls += 1;
    return part;
  }
}

export function isList(part: Part): boolean {
  return part.kind === 'strings' || part.kind === 'files';
}
