import { readFileSync } from 'node:fs';

// The htpasswd file format (`--htpasswd`): its entries as Apache's mod_authn_file reads them, and the
// start-up check of the file. Checking passwords against the entries is http/htpasswd.ts's work.

/** The hash formats Apache's htpasswd writes that can be checked with well-kept libraries. */
export type HashKind = 'bcrypt' | 'apr1' | 'sha1';

export interface HtpasswdEntry {
  readonly kind: HashKind;
  readonly hash: string;
}

export interface ParsedHtpasswd {
  /** The first entry of each user wins, as in Apache's mod_authn_file. */
  readonly users: ReadonlyMap<string, HtpasswdEntry>;
  /** Lines that were skipped, by number: never quoting a hash, which is half a secret. */
  readonly problems: readonly string[];
}

/**
 * htpasswd -B writes cost 5 by default and accepts at most 17; a higher cost in the file would
 * let every login attempt hold the CPU for minutes, so such an entry is refused.
 */
const MAX_BCRYPT_COST = 17;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

const UNSUPPORTED: readonly [RegExp, string][] = [
  [/^\$5\$/, 'SHA-256 crypt ($5$, htpasswd -2)'],
  [/^\$6\$/, 'SHA-512 crypt ($6$, htpasswd -5)'],
  [/^\$1\$/, 'MD5 crypt ($1$)'],
  [/^[./0-9A-Za-z]{13}$/, 'DES crypt (htpasswd -d)'],
];

export function parseHtpasswd(text: string): ParsedHtpasswd {
  const users = new Map<string, HtpasswdEntry>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push(`${where} is not "user:hash"`);
      return;
    }
    const user = line.slice(0, colon);
    // Apache reads the hash up to the next colon; anything after it is a comment field.
    const hash = line
      .slice(colon + 1)
      .split(':', 1)[0]
      .trim();
    const kind = hashKind(hash);
    if (typeof kind === 'object') {
      problems.push(`${where} (user "${user}"): ${kind.why}`);
      return;
    }
    if (users.has(user)) {
      problems.push(`${where}: user "${user}" appears again; its first entry is the one used`);
      return;
    }
    users.set(user, { kind, hash });
  });
  return { users, problems };
}

function hashKind(hash: string): HashKind | { why: string } {
  const bcryptMatch = BCRYPT.exec(hash);
  if (bcryptMatch) {
    const cost = Number(bcryptMatch[1]);
    return cost >= 4 && cost <= MAX_BCRYPT_COST ? 'bcrypt' : { why: `bcrypt cost ${cost} is outside 4-${MAX_BCRYPT_COST}` };
  }
  if (APR1.test(hash)) return 'apr1';
  if (SHA1.test(hash)) return 'sha1';
  const known = UNSUPPORTED.find(([pattern]) => pattern.test(hash));
  const what = known ? `${known[1]} hashes are not supported` : 'the hash is not bcrypt ($2y$), $apr1$ or {SHA}';
  return { why: `${what}; create the entry again with htpasswd -B` };
}

/** Start-up check: the problems of the file, for the configuration's one report. */
export function checkHtpasswdFile(path: string, problems: string[]): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`htpasswd file ${path} cannot be read: ${codeOf(error)}`);
    return;
  }
  const parsed = parseHtpasswd(text);
  problems.push(...parsed.problems.map((problem) => `htpasswd file ${path}: ${problem}`));
  if (parsed.problems.length === 0 && parsed.users.size === 0) problems.push(`htpasswd file ${path} holds no users`);
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
