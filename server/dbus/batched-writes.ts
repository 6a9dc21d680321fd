import type { Writable } from 'node:stream';
import type * as dbus from 'dbus-next';

/**
 * dbus-next writes every message to its socket at once, one system call each, and each of
 * those wakes dbus-daemon. Under load many messages are sent in one turn of the event loop (the
 * replies to one read of the socket, the method calls of calls that got their job ids), so
 * corking the socket until the end of the turn sends them in one writev: fewer system calls
 * and wake-ups, and no added delay, since the turn ends before any I/O could happen anyway.
 */
function holdWritesUntilEndOfTurn(stream: Writable): void {
  if (stream.writableCorked > 0 || stream.destroyed) return;
  stream.cork();
  process.nextTick(() => stream.uncork());
}

/** The socket under a dbus-next bus; its type does not declare the connection. */
export function busStream(bus: dbus.MessageBus): Writable {
  return (bus as unknown as { _connection: { stream: Writable } })._connection.stream;
}

/** Makes every write of the bus's socket wait for the end of the turn: method calls, replies and signals alike. */
export function batchAllWrites(bus: dbus.MessageBus): void {
  const stream = busStream(bus);
  const write = stream.write;
  stream.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
    holdWritesUntilEndOfTurn(stream);
    return write.apply(this, args);
  } as Writable['write'];
}
