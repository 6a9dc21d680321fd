import { isAbsolute } from 'node:path';
import { type TlsFiles, readTlsFiles } from './tls';
import { type TrustProxy, parseTrustProxy } from './trusted-proxies';

/** A unix socket to listen on instead of TCP (`--listen-socket`, `--socket-mode`). */
export interface SocketConfig {
  readonly path: string;
  /** Permission bits of the socket file: who on this machine may connect. */
  readonly mode: number;
}

/** How the gateway is reached: the settings beside host and port. */
export interface ListenSettings {
  readonly socket?: SocketConfig;
  readonly tls?: TlsFiles;
  readonly trustProxy?: TrustProxy;
}

/** The raw values, after flags and environment variables were merged. */
export interface ListenInput {
  readonly listenSocket?: string;
  readonly socketMode?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly trustProxy?: string;
  /** --host or --port was set (flag or variable): it cannot go with a socket. */
  readonly hostOrPortGiven: boolean;
  readonly noAuth: boolean;
  readonly allowRemoteNoAuth: boolean;
}

/** Owner and group: the proxy's user joins the gateway's group (see the README). */
const DEFAULT_SOCKET_MODE = 0o660;
/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export function buildListenSettings(input: ListenInput, problems: string[]): ListenSettings {
  const socket = buildSocket(input, problems);
  const tls = readTlsFiles(input.tlsCert, input.tlsKey, problems);
  const trustProxy = input.trustProxy === undefined ? undefined : parseTrustProxy(input.trustProxy, problems);
  return Object.freeze({ socket, tls, trustProxy });
}

function buildSocket(input: ListenInput, problems: string[]): SocketConfig | undefined {
  const { listenSocket: path, socketMode } = input;
  if (path === undefined) {
    if (socketMode !== undefined) problems.push('--socket-mode applies only with --listen-socket');
    return undefined;
  }
  if (!isAbsolute(path)) problems.push(`listen-socket "${path}" must be an absolute path (the proxy configuration names the same file)`);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
    problems.push(`listen-socket "${path}" is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have`);
  if (input.hostOrPortGiven) problems.push('--listen-socket excludes --host and --port: the gateway listens on one or the other');

  const mode = socketMode === undefined ? DEFAULT_SOCKET_MODE : /^0?[0-7]{3}$/.test(socketMode) ? parseInt(socketMode, 8) : undefined;
  if (mode === undefined) {
    problems.push(`socket-mode "${socketMode}" is not an octal permission such as 0660`);
    return undefined;
  }
  // Without auth, a socket everybody may write to lets every local user deploy.
  if (input.noAuth && (mode & 0o002) !== 0 && !input.allowRemoteNoAuth) {
    problems.push(
      `--no-auth on a socket with mode ${socketMode} would let every local user deploy: use 0660 (the proxy's user in the gateway's group) or add --allow-remote-no-auth`,
    );
  }
  return Object.freeze({ path, mode });
}
