import { acceptsGzip } from '../../../../server/call/answer';

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['x-gzip', true],
    ['GZIP', true],
    ['deflate, gzip', true],
    ['gzip;q=0.5', true],
    ['gzip; q=1.0, identity', true],
    ['br;q=1, gzip ;q=0.1', true],
  ])('takes %j', (header, expected) => expect(acceptsGzip(header)).toBe(expected));

  it.each([undefined, '', 'identity', 'deflate', 'br', '*', 'gzip;q=0', 'gzip; q=0.000', 'gzipped', 'x-gzip;q=0'])('does not take %j', (header) =>
    expect(acceptsGzip(header)).toBe(false),
  );
});
