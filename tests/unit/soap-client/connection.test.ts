/**
 * The client's timeouts on a fake request and socket with Jest's fake clock: the connect limit
 * cannot be provoked for real on loopback (a loopback connect never hangs, and no other address
 * may be used in tests), and the idle limit's phases are easiest to see one by one here. The
 * integration tests (soap-client-connection) run both against real sockets.
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest } from 'node:http';
import { TimeoutError, type Timeouts, watchRequest } from '../../../soap-client/connection';

class FakeSocket extends EventEmitter {
  connecting = true;
  idleMs = 0;
  keepAlive = false;
  setTimeout(ms: number): this {
    this.idleMs = ms;
    return this;
  }
  setKeepAlive(enable: boolean): this {
    this.keepAlive = enable;
    return this;
  }
}

class FakeRequest extends EventEmitter {
  destroyedWith: unknown;
  destroy(error?: unknown): this {
    this.destroyedWith = error;
    return this;
  }
}

class FakeResponse extends EventEmitter {
  destroyedWith: unknown;
  destroy(error?: unknown): this {
    this.destroyedWith = error;
    return this;
  }
}

function watched(timeouts: Timeouts, onSent?: () => void) {
  const request = new FakeRequest();
  const socket = new FakeSocket();
  watchRequest(request as unknown as ClientRequest, timeouts, onSent);
  request.emit('socket', socket);
  return { request, socket };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('the connect timeout', () => {
  it('destroys a request whose connection is not made in time, with a TimeoutError', () => {
    const { request } = watched({ connectMs: 30_000, idleMs: 600_000 });
    jest.advanceTimersByTime(29_999);
    expect(request.destroyedWith).toBeUndefined();
    jest.advanceTimersByTime(1);
    expect(request.destroyedWith).toBeInstanceOf(TimeoutError);
    expect(request.destroyedWith).toMatchObject({ kind: 'connect', ms: 30_000 });
  });

  it('ends once the connection is made; then the idle limit and TCP keepalive apply', () => {
    const { request, socket } = watched({ connectMs: 30_000, idleMs: 600_000 });
    jest.advanceTimersByTime(10_000);
    socket.connecting = false;
    socket.emit('connect');
    jest.advanceTimersByTime(60_000);
    expect(request.destroyedWith).toBeUndefined();
    expect(socket.idleMs).toBe(600_000);
    expect(socket.keepAlive).toBe(true);
  });

  it('waits without limit when set to 0', () => {
    const { request } = watched({ connectMs: 0, idleMs: 0 });
    jest.advanceTimersByTime(24 * 3_600_000);
    expect(request.destroyedWith).toBeUndefined();
  });
});

describe('the idle timeout', () => {
  function connected(onSent?: () => void) {
    const parts = watched({ connectMs: 30_000, idleMs: 5_000 }, onSent);
    parts.socket.connecting = false;
    parts.socket.emit('connect');
    return parts;
  }

  it('applies while the request goes out, and names that phase', () => {
    const { request, socket } = connected();
    expect(socket.idleMs).toBe(5_000);
    socket.emit('timeout');
    expect(request.destroyedWith).toMatchObject({ kind: 'idle', ms: 5_000, during: 'sending' });
  });

  it('is off from the request sent until the answer begins, then on again while it streams in', () => {
    const onSent = jest.fn();
    const { request, socket } = connected(onSent);
    request.emit('finish');
    expect(onSent).toHaveBeenCalledTimes(1);
    expect(socket.idleMs).toBe(0);
    const response = new FakeResponse();
    request.emit('response', response);
    expect(socket.idleMs).toBe(5_000);
    socket.emit('timeout');
    // Both ends are destroyed with the TimeoutError, so the reader of the answer reports it.
    expect(response.destroyedWith).toMatchObject({ kind: 'idle', during: 'receiving' });
    expect(request.destroyedWith).toBe(response.destroyedWith);
  });

  it('keeps applying when the answer comes before the request is out (an early refusal)', () => {
    const { request, socket } = connected();
    request.emit('response', new FakeResponse());
    request.emit('finish');
    expect(socket.idleMs).toBe(5_000);
  });
});
