import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { addStorePath } from './demo-store';
import { type GatewayEnvironment, startGatewayEnvironment } from './gateway-fixture';
import { recordingLogger } from './recording-logger';
import { type ProxyKind, type RunningProxy, startProxy } from './reverse-proxies';
import { type ClientRun, runClient } from './run-client';
import { run } from './server-process';
import { createCertificate, createHtpasswd } from './tls-files';

/**
 * A real proxy (nginx or Apache) with the project's proxy-config file in front of the gateway,
 * the demo daemon behind it, and a job that outlasts the proxies' stock 60 s timeouts, started
 * right away so that it runs while the other cases do.
 */
export interface ProxySetup {
  readonly kind: ProxyKind;
  /** How the proxy reaches the gateway: --listen-socket, or TCP on 127.0.0.1. */
  readonly upstream: 'socket' | 'tcp';
  /** 'proxy': the gateway runs --no-auth; 'both': the gateway checks the same credentials too. */
  readonly auth: 'proxy' | 'both';
  /** Start the job that outlasts the proxies' stock timeouts (default: yes). */
  readonly longJob?: boolean;
}

export interface ProxyEnvironment {
  readonly setup: ProxySetup;
  readonly gw: GatewayEnvironment;
  readonly proxy: RunningProxy;
  /** The service URL through the proxy: https://127.0.0.1:PORT/DisnixWebService/services/DisnixWebService */
  readonly target: string;
  /** The proxy's certificate, which clients trust (NODE_EXTRA_CA_CERTS=caFile). */
  readonly ca: Buffer;
  readonly caFile: string;
  /** What the gateway logged. */
  readonly log: ReturnType<typeof recordingLogger>;
  /** In the proxy's htpasswd file only. */
  readonly proxyOnlyUser: { readonly name: string; readonly password: string };
  readonly longJob?: Promise<ClientRun>;
  /** The client through the proxy, with these variables (default: the right credentials). */
  client(args: readonly string[], env?: Record<string, string | undefined>): Promise<ClientRun>;
  close(): Promise<void>;
}

/** Above nginx's proxy_read_timeout and Apache's Timeout, both 60 s by default. */
export const LONG_JOB_MS = 65_000;

export async function startProxyEnvironment(setup: ProxySetup): Promise<ProxyEnvironment> {
  const dir = await mkdtemp(join(tmpdir(), `proxy-${setup.kind}-`));
  // The proxy's workers may run as another user (Apache's never as root) and read files here.
  await chmod(dir, 0o755);
  const log = recordingLogger();
  const socket = join(dir, 'gateway.sock');
  let gw: GatewayEnvironment | undefined;
  let proxy: RunningProxy | undefined;
  try {
    const { certFile, keyFile } = await createCertificate(dir);
    gw = await startGatewayEnvironment({
      logger: log,
      listenArgs: setup.upstream === 'socket' ? ['--listen-socket', socket] : undefined,
      gatewayArgs: ['--trust-proxy', setup.upstream === 'socket' ? 'loopback' : '127.0.0.1', ...(setup.auth === 'proxy' ? ['--no-auth'] : [])],
    });
    // As in production: the proxy's workers reach the socket (mode 0660) through its group.
    if (setup.upstream === 'socket' && userInfo().uid === 0) await chown(socket, 0, await groupId('www-data'));
    const proxyOnlyUser = { name: 'proxy-only', password: 'only-the-proxy-knows-me' };
    const htpasswd = join(dir, 'htpasswd');
    await createHtpasswd(htpasswd, { [gw.username]: gw.password, [proxyOnlyUser.name]: proxyOnlyUser.password });
    proxy = await startProxy(setup.kind, dir, { CERT: certFile, CERT_KEY: keyFile, HTPASSWD: htpasswd, UPSTREAM: upstreamOf(setup, socket, gw.url) });

    const target = `https://127.0.0.1:${proxy.port}${DEFAULT_SERVICE_PATH}`;
    const credentials = { DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password };
    const client = (args: readonly string[], env: Record<string, string | undefined> = credentials) =>
      runClient(['--target', target, ...args], { NODE_EXTRA_CA_CERTS: certFile, ...env });

    const path = await addStorePath(gw.daemon.stateDir, 'long-running', 'a service whose activation takes long\n');
    const longJob = setup.longJob === false ? undefined : client(['--activate', '--type', 'echo', '--arguments', `delay=${LONG_JOB_MS}`, path]);
    const [started, running] = [gw, proxy];
    return {
      setup,
      gw,
      proxy,
      target,
      log,
      proxyOnlyUser,
      longJob,
      client,
      ca: await readFile(certFile),
      caFile: certFile,
      async close() {
        await started.close();
        await running.stop();
        await longJob;
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await gw?.close();
    await proxy?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function groupId(name: string): Promise<number> {
  const output = (await run('id', ['-g', name])).trim();
  if (!/^\d+$/.test(output)) throw new Error(`no group id for ${name}: "${output}"`);
  return Number(output);
}

/** The gateway's address in the proxy's notation, as the @UPSTREAM@ placeholder documents. */
function upstreamOf(setup: ProxySetup, socket: string, gatewayUrl: string): string {
  if (setup.upstream === 'tcp') return new URL(gatewayUrl).origin;
  return setup.kind === 'nginx' ? `http://unix:${socket}:` : `unix:${socket}|http://localhost`;
}
