import type { RequestHandler } from 'express';
import basicAuth from 'express-basic-auth';
import type { AuthConfig } from '../config/config';

export const REALM = 'DisnixWebService';

/**
 * HTTP basic auth for every route. Both the name and the password are always compared (in
 * constant time), so a wrong name takes as long as a wrong password.
 */
export function createBasicAuth(auth: AuthConfig): RequestHandler | undefined {
  if (auth.mode === 'none') return undefined;
  const users = Object.entries(auth.users);
  return basicAuth({
    authorizer: (user: string, password: string) =>
      users.reduce((ok, [name, secret]) => (Number(basicAuth.safeCompare(user, name)) & Number(basicAuth.safeCompare(password, secret))) === 1 || ok, false),
    challenge: true,
    realm: REALM,
    unauthorizedResponse: (req: { auth?: unknown }) =>
      req.auth ? 'The credentials were refused.\n' : 'Credentials are required (HTTP basic auth).\n',
  });
}
