import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a connection closed after an early answer (a refusal sent while the request's body
 * still arrives) goes on being read, at most: time for the caller to read the answer and stop.
 */
export const LINGER_MS = 10_000;

/** The connections of a server that are closing gently right now. */
export interface GentleClose {
  /** A shutdown waits (briefly) for these before it closes every connection, so that its own refusals reach their callers. */
  readonly lingering: number;
}

/**
 * Closes the server's connections gently. Node closes a connection whose answer says
 * `Connection: close` as soon as that answer is written. When the caller is still sending its
 * body then (a refused upload: full disk, too large, bad credentials, shutdown), the unread
 * bytes make the kernel reset the connection, and a caller whose next write fails first never
 * reads the answer: it reports a broken pipe instead of the refusal. So the connection's
 * sending side is ended (the caller sees the answer end), and what the caller still sends is
 * read and dropped until it closes its side, or for `lingerMs` at most.
 */
export function closeConnectionsGently(server: Server, tls: boolean, lingerMs = LINGER_MS): GentleClose {
  const lingering = new Set<Socket>();
  // Node's HTTP layer gets the TLS socket, not the TCP one, on an HTTPS server.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    // What Node calls on a connection once its last answer was written.
    socket.destroySoon = () => lingeringClose(socket, lingerMs, lingering);
  });
  return {
    get lingering() {
      return lingering.size;
    },
  };
}

function lingeringClose(socket: Socket, lingerMs: number, lingering: Set<Socket>): void {
  if (socket.destroyed) return;
  if (socket.readableEnded) {
    // The caller sent all it had and closed its side: nothing to wait for.
    endThenDestroy(socket);
    return;
  }
  lingering.add(socket);
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => {
    clearTimeout(timer);
    lingering.delete(socket);
  });
  socket.once('end', () => endThenDestroy(socket));
  // Node's HTTP parser goes on reading the socket: the rest of the body is dropped (the request
  // was resumed), and Node runs no further request from a connection its answer closed.
  socket.resume();
  socket.end();
}

/** Node's own destroySoon: closes once everything written has gone out. */
function endThenDestroy(socket: Socket): void {
  if (socket.writable) socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}
