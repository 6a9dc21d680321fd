import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long the client waits for the network; 0 means no limit. */
export interface Timeouts {
  /** Until the connection can carry the request: DNS, TCP, and the TLS handshake for https://. */
  readonly connectMs: number;
  /**
   * Silence in both directions while the request goes out or the answer comes in. Not while
   * the target runs the job: the gateway sends nothing until the job ends, which can take hours.
   */
  readonly idleMs: number;
}

/**
 * 30 s to connect: a reachable gateway answers in milliseconds, a slow VPN in seconds, and the
 * kernel alone would try for two minutes. 10 min of silence mid-transfer: a link that moves no
 * byte for that long is gone, while a busy one stalls for seconds at most.
 */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, idleMs: 600_000 };

/** What every call needs to reach the gateway. */
export interface Connection {
  readonly url: URL;
  /** Value of the Authorization header; undefined when no credentials were given at all. */
  readonly authorization?: string;
  readonly timeouts: Timeouts;
  /** Transfers only: send uploads gzip-compressed and ask for br or gzip downloads. */
  readonly compress?: boolean;
}

/** A limit of `Timeouts` ran out; errors.ts turns it into a message. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(
    readonly kind: 'connect' | 'idle',
    readonly ms: number,
    /** For an idle timeout: which way the bytes had stopped. */
    readonly during: 'sending' | 'receiving' = 'sending',
  ) {
    super(`${kind} timeout after ${ms} ms`);
  }
}

/**
 * While the answer is awaited no byte moves, so a peer that vanished (power cut, cable) would
 * never be noticed: TCP keepalive probes notice it without limiting how long a job may take.
 */
const KEEPALIVE_DELAY_MS = 60_000;

/**
 * Applies the timeouts to one request: the connect limit from the start until the connection
 * is ready, the idle limit while bytes are due (sending the request, receiving the answer),
 * none in between. `onSent` runs once the request's last byte is handed to the connection.
 * A limit that runs out destroys the request (and the answer, if begun) with a TimeoutError.
 */
export function watchRequest(outgoing: ClientRequest, timeouts: Timeouts, onSent?: () => void): void {
  let socket: Socket | undefined;
  let response: IncomingMessage | undefined;
  let sent = false;
  let connected = false;
  const fail = (error: TimeoutError) => {
    response?.destroy(error);
    outgoing.destroy(error);
  };
  // The idle limit applies unless the request is out and its answer has not begun.
  const applyIdle = () => {
    if (connected && timeouts.idleMs > 0) socket?.setTimeout(sent && response === undefined ? 0 : timeouts.idleMs);
  };
  outgoing.on('socket', (newSocket: Socket) => {
    socket = newSocket;
    const ready = () => {
      clearTimeout(connectTimer);
      connected = true;
      newSocket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
      applyIdle();
    };
    const connectTimer = timeouts.connectMs > 0 ? setTimeout(() => fail(new TimeoutError('connect', timeouts.connectMs)), timeouts.connectMs) : undefined;
    newSocket.once('close', () => clearTimeout(connectTimer));
    newSocket.on('timeout', () => fail(new TimeoutError('idle', timeouts.idleMs, response === undefined ? 'sending' : 'receiving')));
    // An https:// connection carries the request only once its TLS handshake is done.
    const readyEvent = 'encrypted' in newSocket ? 'secureConnect' : 'connect';
    if (!newSocket.connecting && readyEvent === 'connect') ready();
    else newSocket.once(readyEvent, ready);
  });
  outgoing.on('finish', () => {
    sent = true;
    applyIdle();
    onSent?.();
  });
  outgoing.on('response', (answer: IncomingMessage) => {
    response = answer;
    applyIdle();
  });
}
