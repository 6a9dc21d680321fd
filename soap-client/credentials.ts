import { readFileSync } from 'node:fs';
import { ClientError, fileProblem } from './errors';

export const USERNAME_VARIABLE = 'DISNIX_SOAP_CLIENT_USERNAME';
export const PASSWORD_VARIABLE = 'DISNIX_SOAP_CLIENT_PASSWORD';
export const PASSWORD_FILE_VARIABLE = 'DISNIX_SOAP_CLIENT_PASSWORD_FILE';

/**
 * The Authorization header for HTTP basic auth, or undefined when no credentials are given at
 * all. The user name comes from DISNIX_SOAP_CLIENT_USERNAME, else the target URL
 * (http://user:password@host/...); the password from DISNIX_SOAP_CLIENT_PASSWORD, else the
 * first line of DISNIX_SOAP_CLIENT_PASSWORD_FILE, else the URL. Each part on its own, so that
 * a user named in the infrastructure model's targetEPR can take its password from a file.
 */
export function basicAuthorization(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  const username = env[USERNAME_VARIABLE] || fromUrl(url.username);
  const fromFile = readPasswordFile(env);
  const password = env[PASSWORD_VARIABLE] || fromFile || fromUrl(url.password);
  if (!username && !password) return undefined;
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function readPasswordFile(env: NodeJS.ProcessEnv): string | undefined {
  const path = env[PASSWORD_FILE_VARIABLE];
  if (!path) return undefined;
  // Two sources that may disagree: say so rather than pick one silently.
  if (env[PASSWORD_VARIABLE]) throw new ClientError(`both ${PASSWORD_VARIABLE} and ${PASSWORD_FILE_VARIABLE} are set; unset one of them`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ClientError(`cannot read the password file ${path} (${PASSWORD_FILE_VARIABLE}): ${fileProblem(error)}`);
  }
  // The first line: `echo secret > file` adds a newline that is no part of the password.
  const password = text.split(/\r?\n/, 1)[0];
  if (password === '') throw new ClientError(`the password file ${path} (${PASSWORD_FILE_VARIABLE}) is empty; put the password on its first line`);
  return password;
}

/** A URL keeps user and password percent-encoded (p%40ss for p@ss); a stray % stays as it is. */
function fromUrl(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
