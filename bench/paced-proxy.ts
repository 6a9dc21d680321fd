import { type Socket, connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A TCP proxy on loopback whose client-to-server direction moves at most `bytesPerSecond`: an
 * upload over a link of that rate, made in user space (no root, no tc, unlike the slow-link
 * section's namespace). Answers come back unpaced. Each connection is paced from its first
 * byte, and held back also while the server does not take more (its backpressure).
 */
export interface PacedProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function startPacedProxy(targetPort: number, bytesPerSecond: number): Promise<PacedProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let started: number | undefined;
    let sent = 0;
    // Two reasons to hold the client back; it goes on once neither holds.
    let early = false;
    let full = false;
    const go = () => {
      if (!early && !full) client.resume();
    };
    client.on('data', (chunk: Buffer) => {
      started ??= performance.now();
      sent += chunk.length;
      full = !upstream.write(chunk);
      const wait = started + (sent / bytesPerSecond) * 1000 - performance.now();
      early = wait > 0;
      if (!early && !full) return;
      client.pause();
      if (early)
        setTimeout(() => {
          early = false;
          go();
        }, wait);
    });
    upstream.on('drain', () => {
      full = false;
      go();
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
