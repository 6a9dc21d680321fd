import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths';
import { type ServerProcess, freePort, startServerProcess } from './server-process';

/**
 * The real nginx and Apache httpd of Debian, each started with its own main configuration in a
 * temporary directory, which includes the project's proxy-config file with only ports and paths
 * filled in: what is tested is what operators install.
 */
export interface ProxyValues {
  readonly LISTEN_PORT: string;
  readonly CERT: string;
  readonly CERT_KEY: string;
  readonly HTPASSWD: string;
  /** The gateway's address, in the proxy's own notation. */
  readonly UPSTREAM: string;
}

export interface RunningProxy extends ServerProcess {
  readonly port: number;
  readonly errorLog: string;
}

export type ProxyKind = 'nginx' | 'apache';

const PROXY_CONFIG_DIR = join(PROJECT_ROOT, 'proxy-config');
const APACHE_MODULES = '/usr/lib/apache2/modules';
// Absolute: /usr/sbin is not on a Debian user's PATH.
const NGINX = '/usr/sbin/nginx';
const APACHE = '/usr/sbin/apache2';

/** Fills in every @NAME@ of the project's file; a placeholder left over or unknown is an error. */
export async function renderProxyConfig(kind: ProxyKind, values: ProxyValues): Promise<string> {
  const template = await readFile(join(PROXY_CONFIG_DIR, kind, 'disnix-webservice.conf'), 'utf8');
  const used = new Set<string>();
  const text = template.replace(/@([A-Z_]+)@/g, (match, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`proxy-config/${kind}: unknown placeholder ${match}`);
    used.add(name);
    return values[name as keyof ProxyValues];
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`proxy-config/${kind} has no placeholder ${unused.join(', ')}`);
  return text;
}

/** Starts the proxy on a free loopback port; tries another port if that one was taken meanwhile. */
export async function startProxy(kind: ProxyKind, dir: string, values: Omit<ProxyValues, 'LISTEN_PORT'>): Promise<RunningProxy> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await (kind === 'nginx' ? startNginx : startApache)(join(dir, kind), port, values);
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

async function startNginx(dir: string, port: number, values: Omit<ProxyValues, 'LISTEN_PORT'>): Promise<RunningProxy> {
  await mkdir(dir, { recursive: true });
  // The file declares `listen @LISTEN_PORT@`: an address:port keeps the test on loopback.
  await writeFile(join(dir, 'disnix-webservice.conf'), await renderProxyConfig('nginx', { ...values, LISTEN_PORT: `127.0.0.1:${port}` }));
  const errorLog = join(dir, 'error.log');
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      // As root, workers would run as nobody, who cannot enter the test's directory.
      isRoot() ? 'user root root;' : '',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} info;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((temp) => `  ${temp}_temp_path ${join(dir, temp)};`),
      `  include ${join(dir, 'disnix-webservice.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  // -e: the log for errors before nginx.conf is read, instead of /var/log/nginx (not writable when not root).
  const args = ['-e', errorLog, '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'];
  return { port, errorLog, ...(await startServerProcess({ command: NGINX, args, port, errorLog })) };
}

async function startApache(dir: string, port: number, values: Omit<ProxyValues, 'LISTEN_PORT'>): Promise<RunningProxy> {
  await mkdir(join(dir, 'run'), { recursive: true });
  await writeFile(join(dir, 'disnix-webservice.conf'), await renderProxyConfig('apache', { ...values, LISTEN_PORT: String(port) }));
  const errorLog = join(dir, 'error.log');
  const modules = ['mpm_event', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_basic', 'headers', 'proxy', 'proxy_http', 'ssl'];
  for (const module of modules) {
    if (!existsSync(join(APACHE_MODULES, `mod_${module}.so`))) throw new Error(`${APACHE_MODULES}/mod_${module}.so is missing: apt-get install apache2`);
  }
  await writeFile(
    join(dir, 'httpd.conf'),
    [
      `ServerRoot "${dir}"`,
      'ServerName 127.0.0.1',
      `PidFile "${join(dir, 'httpd.pid')}"`,
      `DefaultRuntimeDir "${join(dir, 'run')}"`,
      `Mutex file:${join(dir, 'run')} default`,
      `ErrorLog "${errorLog}"`,
      'LogLevel warn',
      ...modules.map((module) => `LoadModule ${module}_module ${APACHE_MODULES}/mod_${module}.so`),
      // Apache refuses to serve as root; its workers then need to read the htpasswd file.
      isRoot() ? 'User www-data\nGroup www-data' : '',
      'StartServers 1',
      'ThreadsPerChild 16',
      'MinSpareThreads 8',
      'MaxSpareThreads 32',
      'MaxRequestWorkers 64',
      `CustomLog "${join(dir, 'access.log')}" "%h %u \\"%r\\" %>s %b %D"`,
      `Listen 127.0.0.1:${port} https`,
      `Include "${join(dir, 'disnix-webservice.conf')}"`,
      '',
    ].join('\n'),
  );
  const args = ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'];
  return { port, errorLog, ...(await startServerProcess({ command: APACHE, args, port, errorLog })) };
}

function isRoot(): boolean {
  return userInfo().uid === 0;
}
