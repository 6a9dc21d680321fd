import type { IncomingHttpHeaders } from 'node:http';
import { TimeoutError } from '../../../soap-client/connection';
import { fileProblem, networkError, sendError, statusError, tooManyRequestsError } from '../../../soap-client/errors';

const T = new URL('http://gw.example:8080/DisnixWebService/services/DisnixWebService');
const answer = (statusCode: number, statusMessage: string, headers: IncomingHttpHeaders = {}) => ({ statusCode, statusMessage, headers });

describe('statusError: answers without a SOAP message', () => {
  it('on 401 without credentials, says none are set and names the two variables', () => {
    const message = statusError({ url: T }, answer(401, 'Unauthorized'))?.message;
    expect(message).toMatch(/^the gateway at gw\.example:8080 asks for credentials \(HTTP 401 Unauthorized\) and none are set\n/);
    expect(message).toContain('Set DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD');
    expect(message).not.toMatch(/refused/);
  });

  it('on 401 with credentials, says they were refused', () => {
    expect(statusError({ url: T, authorization: 'Basic eDp5' }, answer(401, 'Unauthorized'))?.message).toMatch(
      /^the gateway at gw\.example:8080 refused the credentials \(HTTP 401 Unauthorized\)\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/,
    );
  });

  it('on 429, says when to try again, from Retry-After in seconds or as a date', () => {
    const seconds = statusError({ url: T, authorization: 'Basic eDp5' }, answer(429, 'Too Many Requests', { 'retry-after': '42' }))?.message;
    expect(seconds).toMatch(
      /^the gateway at gw\.example:8080 turns this client away for now \(HTTP 429 Too Many Requests\), as a rule after too many refused logins/,
    );
    expect(seconds).toMatch(/\nTry again in 42 s, with credentials it accepts/);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(tooManyRequestsError(T, 'Tue, 01 Jan 2030 00:10:00 GMT', now).message).toMatch(/Try again in 10 min,/);
    expect(tooManyRequestsError(T, undefined, now).message).toMatch(/Try again later,/);
    expect(tooManyRequestsError(T, 'soon', now).message).toMatch(/Try again later,/);
  });

  it('leaves the statuses whose body is read to the reader', () => {
    expect(statusError({ url: T }, answer(200, 'OK'))).toBeUndefined();
    expect(statusError({ url: T }, answer(500, 'Internal Server Error'))).toBeUndefined();
  });
});

describe('networkError: connections that fail', () => {
  it('says an https:// target speaks plain HTTP, without the OpenSSL text or the URL credentials', () => {
    const error = Object.assign(new Error('write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:'), {
      code: 'EPROTO',
    });
    const message = networkError(new URL('https://u:secret@gw.example:8080/DisnixWebService/services/DisnixWebService'), error).message;
    expect(message).toBe(
      'cannot connect to the gateway at gw.example:8080 over TLS: the target speaks plain HTTP on that port\n' +
        'Use http://gw.example:8080/DisnixWebService/services/DisnixWebService as the target, or the port that serves https://.',
    );
    expect(networkError(new URL('https://gw.example/x'), Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })).message).toMatch(
      /speaks plain HTTP/,
    );
  });

  it('names the connect timeout, its length and how to change it', () => {
    expect(networkError(T, new TimeoutError('connect', 30_000)).message).toBe(
      'cannot reach the gateway at gw.example:8080: no connection within 30 s (the connect timeout)\n' +
        'Check that the host is up and the port open; a slow network may need a longer --connect-timeout or DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT.',
    );
  });

  it('names the idle timeout, the phase it struck in and how to change it', () => {
    expect(networkError(T, new TimeoutError('idle', 600_000, 'sending')).message).toMatch(
      /^the connection to the gateway at gw\.example:8080 stalled: nothing moved for 10 min while sending the request \(the idle timeout\)\n.*--idle-timeout or DISNIX_SOAP_CLIENT_IDLE_TIMEOUT sets the limit, 0 removes it/,
    );
    expect(networkError(T, new TimeoutError('idle', 1500, 'receiving')).message).toMatch(/nothing moved for 1\.5 s while receiving the answer/);
  });
});

describe('local files', () => {
  const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: something, open '${path}'`), { code, path, syscall: 'open' });

  it('says in plain words what is wrong with a file', () => {
    expect(fileProblem(errno('ENOENT'))).toBe('it does not exist');
    expect(fileProblem(errno('EACCES'))).toBe('permission denied: this user may not read it');
    expect(fileProblem(errno('EISDIR'))).toBe('it is a directory, not a file');
    expect(fileProblem(errno('EWEIRD'))).toBe('EWEIRD');
  });

  it('names the file that failed while the request was being sent', () => {
    expect(sendError(errno('EACCES', '/srv/snap/db.sql')).message).toBe('cannot read /srv/snap/db.sql: permission denied: this user may not read it');
    expect(sendError(new Error('/x changed while it was being sent (1 of 2 bytes)')).message).toBe(
      'cannot send the request: /x changed while it was being sent (1 of 2 bytes)',
    );
  });
});
