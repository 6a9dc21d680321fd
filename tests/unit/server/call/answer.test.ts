import { answerEncoding } from '../../../../server/call/answer';

describe('answerEncoding', () => {
  it.each([
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['deflate, gzip', 'gzip'],
    ['gzip;q=0.5', 'gzip'],
    ['gzip; q=1.0, identity', 'gzip'],
    ['br', 'br'],
    ['br, gzip', 'br'],
    ['gzip, BR;q=0.1', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=1, gzip ;q=0.1', 'br'],
  ])('answers %j with %s', (header, expected) => expect(answerEncoding(header)).toBe(expected));

  it.each([undefined, '', 'identity', 'deflate', '*', 'gzip;q=0', 'gzip; q=0.000', 'gzipped', 'brotli', 'x-gzip;q=0', 'br;q=0'])(
    'does not compress for %j',
    (header) => expect(answerEncoding(header)).toBeUndefined(),
  );
});
