import { createHash, timingSafeEqual } from 'node:crypto';
import aprMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';
import type { HtpasswdEntry } from '../config/htpasswd';

/** Checks a password against an entry; every comparison of secrets takes constant time. */
export async function verifyPassword(entry: HtpasswdEntry, password: string): Promise<boolean> {
  switch (entry.kind) {
    case 'bcrypt':
      // bcryptjs compares the computed hash with its own constant-time comparison.
      return bcrypt.compare(password, entry.hash);
    case 'apr1':
      // apache-md5 hashes each character's low byte; htpasswd hashed the UTF-8 bytes.
      return sameSecret(aprMd5(Buffer.from(password, 'utf8').toString('latin1'), entry.hash), entry.hash);
    case 'sha1':
      return sameSecret(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, entry.hash);
  }
}

/**
 * Compared as digests, so that the lengths always match (timingSafeEqual insists) and the
 * time taken reveals nothing about either string, not even its length.
 */
export function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Checked when the user is unknown, so that an unknown name costs about as much as a wrong
 * password of an htpasswd -B entry and answer times do not tell which names exist.
 */
export const DUMMY_ENTRY: HtpasswdEntry = { kind: 'bcrypt', hash: '$2y$05$L0O1DQGQT5tHZUL67ZQHHudbJ8gUsPLzVeu67tymeHH7xsjw/nQj6' };
