import { type OperationName, getOperation } from '../../../../protocol/operations';
import { PositionalParts, isPositionalName } from '../../../../protocol/codec/positional-parts';

/** The part names the children of a Java-client request stand for, in document order. */
function partsOf(operation: OperationName, children: readonly (string | [string, 'nil'])[]): (string | undefined)[] {
  const positions = new PositionalParts(getOperation(operation).params);
  return children.map((child) => (typeof child === 'string' ? positions.partOf(child, false) : positions.partOf(child[0], true))?.name);
}

describe('the Java client positional part names', () => {
  test('scalars are argN, array elements itemN, by the count of arguments before them', () => {
    expect(partsOf('set', ['arg0', 'arg1'])).toEqual(['profile', 'derivation']);
    expect(partsOf('export', ['item0', 'item0', 'item0'])).toEqual(['derivation', 'derivation', 'derivation']);
    expect(partsOf('activate', ['arg0', 'arg1', 'arg2', 'item3', 'item3'])).toEqual(['derivation', 'container', 'type', 'arguments', 'arguments']);
    expect(partsOf('cleanSnapshots', ['arg0', 'arg1', 'arg2'])).toEqual(['keep', 'container', 'component']);
  });

  test('an empty array writes nothing and the parts after it keep their numbers', () => {
    expect(partsOf('activate', ['arg0', 'arg1', 'arg2'])).toEqual(['derivation', 'container', 'type']);
    expect(partsOf('importLocalSnapshots', ['arg0', 'arg1', 'arg2', 'item3', 'item3', 'item4', 'item4'])).toEqual([
      'container',
      'component',
      'snapshot',
      'content',
      'content',
      'path',
      'path',
    ]);
  });

  test('a null argument is a nil itemN that does not advance the count', () => {
    expect(
      partsOf('queryAllSnapshots', [
        ['item0', 'nil'],
        ['item0', 'nil'],
      ]),
    ).toEqual(['container', 'component']);
    expect(partsOf('queryAllSnapshots', [['item0', 'nil'], 'arg0'])).toEqual(['container', 'component']);
    expect(partsOf('cleanSnapshots', ['arg0', ['item1', 'nil'], 'arg1'])).toEqual(['keep', 'container', 'component']);
    expect(partsOf('importSnapshots', [['item0', 'nil'], ['item0', 'nil'], 'item0'])).toEqual(['container', 'component', 'snapshots']);
  });

  test('a nil element of an array stays in that array', () => {
    expect(partsOf('export', ['item0', ['item0', 'nil'], 'item0'])).toEqual(['derivation', 'derivation', 'derivation']);
  });

  test('numbers beyond the parts name none; other names are not positional', () => {
    expect(partsOf('lock', ['arg0', 'arg1'])).toEqual(['profile', undefined]);
    expect(['arg0', 'item12'].every(isPositionalName)).toBe(true);
    expect(['profile', 'arg', 'argx1', 'Arg0', 'item-1'].some(isPositionalName)).toBe(false);
  });
});
