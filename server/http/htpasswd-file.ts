import { readFile, stat } from 'node:fs/promises';
import { type HtpasswdEntry, parseHtpasswd } from '../config/htpasswd';
import type { Logger } from '../logging/logger';

/**
 * The users of an htpasswd file, read again whenever the file changes. Checked by a stat of the
 * path on each request rather than fs.watch: editors and `htpasswd` itself replace the file by
 * renaming a new one over it, which a watch on the old inode never sees, and a stat is cheap
 * next to a password check. Concurrent requests share one stat.
 */
export class HtpasswdFile {
  #users: ReadonlyMap<string, HtpasswdEntry> = new Map();
  #stamp = '';
  /** Bumped whenever the users are replaced: what a cached login remembers of the file. */
  #generation = 0;
  #refreshing: Promise<void> | undefined;
  /** Why the file let nobody in at its last read; undefined after a good read. */
  #failure: string | undefined;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** The entry of a user as the file says now; undefined for unknown users. */
  async lookup(user: string): Promise<HtpasswdEntry | undefined> {
    return (await this.find(user)).entry;
  }

  /** The entry of a user, and the generation of the users it was found in (read together, so they agree). */
  async find(user: string): Promise<{ entry: HtpasswdEntry | undefined; generation: number }> {
    const generation = await this.current();
    return { entry: this.#users.get(user), generation };
  }

  /** Reads the file again if it changed; answers the generation of its users, which changes with them. */
  async current(): Promise<number> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
    return this.#generation;
  }

  /**
   * Reads the file now, whether it changed or not (SIGHUP): a change that left size and times
   * alike would otherwise go unseen. Answers how many users it holds, or why it lets none in.
   */
  async reload(): Promise<{ readonly users: number; readonly failure?: string }> {
    await this.#refreshing;
    this.#refreshing = this.#refresh(true).finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
    return { users: this.#users.size, failure: this.#failure };
  }

  async #refresh(force = false): Promise<void> {
    let stamp: string;
    try {
      const info = await stat(this.path, { bigint: true });
      stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    } catch (error) {
      this.#failClosed(
        `the htpasswd file ${this.path} cannot be read (${codeOf(error)}): no user of it is let in until it can`,
        `missing:${codeOf(error)}`,
        force,
      );
      return;
    }
    if (stamp === this.#stamp && !force) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      this.#failClosed(`the htpasswd file ${this.path} cannot be read (${codeOf(error)}): no user of it is let in until it can`, `unreadable:${stamp}`, force);
      return;
    }
    const { users, problems } = parseHtpasswd(text);
    const first = this.#stamp === '';
    this.#users = users;
    this.#stamp = stamp;
    this.#generation += 1;
    this.#failure = undefined;
    for (const problem of problems) this.logger.warn(`htpasswd ${this.path}: ${problem} (skipped)`);
    // A forced read is reported by whoever forced it, in one line with the other files.
    if (!force) this.logger.info(first ? 'htpasswd file read' : 'htpasswd file changed; read again', { file: this.path, users: users.size });
  }

  /**
   * A vanished or unreadable file lets nobody in from it: deleting the file is a way to lock
   * everyone out, and keeping the old users would make it a silent no-op. Logged once per state, by whoever forced a read if one did.
   */
  #failClosed(message: string, stamp: string, forced: boolean): void {
    this.#failure = message;
    if (this.#stamp === stamp) return;
    this.#users = new Map();
    this.#stamp = stamp;
    this.#generation += 1;
    if (!forced) this.logger.error(message);
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
