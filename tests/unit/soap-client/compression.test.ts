import { isLoopbackHost, shouldCompress } from '../../../soap-client/compression';

const url = (text: string) => new URL(text);

describe('the auto rule: compress unless the target is on loopback', () => {
  it.each([
    'http://127.0.0.1:8080/DisnixWebService/services/DisnixWebService',
    'http://127.1.2.3/',
    'http://localhost:8080/',
    'https://LOCALHOST/',
    'http://localhost./',
    'http://gateway.localhost/',
    'http://[::1]:8080/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
  ])('%s is loopback: not compressed', (text) => {
    expect(isLoopbackHost(url(text).hostname)).toBe(true);
    expect(shouldCompress('auto', url(text))).toBe(false);
  });

  it.each([
    'http://192.168.1.20:8080/',
    'http://10.0.0.1/',
    'http://128.0.0.1/',
    'https://target.example.org/',
    'http://localhost.example.org/',
    'http://[::2]/',
    'http://[fe80::1]/',
    'http://[::ffff:10.0.0.1]/',
  ])('%s is not loopback: compressed', (text) => {
    expect(isLoopbackHost(url(text).hostname)).toBe(false);
    expect(shouldCompress('auto', url(text))).toBe(true);
  });

  it('always and never hold whatever the target', () => {
    for (const target of ['http://127.0.0.1/', 'http://target.example.org/']) {
      expect(shouldCompress('always', url(target))).toBe(true);
      expect(shouldCompress('never', url(target))).toBe(false);
    }
  });
});
