import { chmod, lstat, unlink } from 'node:fs/promises';
import { type RequestListener, type Server, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import type { GatewayConfig } from '../config/config';
import type { SocketConfig } from '../config/listen-settings';
import { type GentleClose, closeConnectionsGently } from './lingering-close';

export interface ListeningServer {
  readonly server: Server;
  /** The service URL as reachable on the listening address; for a socket, in nginx's notation. */
  readonly url: string;
  /** Its connections closing gently after an early answer (see lingering-close). */
  readonly gentleClose: GentleClose;
  /** Which addresses it takes, in words: what an operator needs to know of 0.0.0.0 or ::. */
  readonly listens: string;
  /** Removes what listening left behind (the socket file); call once the server closed. */
  cleanup(): Promise<void>;
}

/** Listens where the configuration says: TCP or a unix socket, plain HTTP or TLS. */
export async function listenGateway(app: RequestListener, config: GatewayConfig): Promise<ListeningServer> {
  // https.Server serves the same API as http.Server for everything the gateway uses.
  const server = config.tls ? (createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, app) as unknown as Server) : createHttpServer(app);
  // The app, not Node, answers `Expect: 100-continue`: only once auth let the request in.
  server.on('checkContinue', app);
  const gentleClose = closeConnectionsGently(server, config.tls !== undefined);
  const scheme = config.tls ? 'https' : 'http';
  const { socket } = config;
  if (socket) {
    await listenOnSocket(server, socket);
    return {
      server,
      gentleClose,
      url: `${scheme}://unix:${socket.path}:${config.servicePath}`,
      listens: `the unix socket ${socket.path} only, no TCP port`,
      cleanup: () => unlink(socket.path).catch(ignoreMissing),
    };
  }
  await listening(server, () => server.listen(config.port, config.host));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    gentleClose,
    url: `${scheme}://${reachableHost(config.host)}:${port}${config.servicePath}`,
    listens: describeHost(config.host, port),
    cleanup: async () => {},
  };
}

/** A host to put in the URL: a wildcard address names no machine, so its loopback stands in. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * What the listening address takes. Node opens an IPv6 socket with IPV6_V6ONLY off, so ::
 * takes IPv4 as well whatever net.ipv6.bindv6only says; 0.0.0.0 is an IPv4 socket and takes
 * no IPv6 at all (the tests pin both).
 */
export function describeHost(host: string, port: number): string {
  if (host === '0.0.0.0') return `every IPv4 address of this machine, port ${port}; no IPv6 (--host :: takes both)`;
  if (host === '::') return `every IPv6 and every IPv4 address of this machine, port ${port}`;
  return `${host} port ${port} only`;
}

async function listenOnSocket(server: Server, socket: SocketConfig): Promise<void> {
  await removeStaleSocket(socket.path);
  // The socket file is created inside listen(), synchronously, with the umask's permissions:
  // set them there, so nobody can connect in the moment before the chmod below.
  await listening(server, () => {
    const previous = process.umask(0o777 & ~socket.mode);
    try {
      server.listen(socket.path);
    } finally {
      process.umask(previous);
    }
  });
  await chmod(socket.path, socket.mode);
}

function listening(server: Server, listen: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    listen();
  });
}

/**
 * A socket file outlives a gateway that was killed, and then blocks the next start. It is
 * removed only when nothing accepts connections on it, and never if it is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket; remove it or choose another --listen-socket`);
  if (await isAccepting(path)) throw new Error(`${path} is in use: another server listens on it (a gateway already running?)`);
  await unlink(path);
}

function isAccepting(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve(false);
      else reject(new Error(`cannot check whether ${path} is in use: ${error.message}`));
    });
  });
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
