import { stat, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logging/logger';

/**
 * The files disnix-service's `export` and `capture_config` jobs write into its TMPDIR and never
 * remove (one closure per `--export --remotefile`, of any size). Once the gateway has streamed
 * or read such a file, nobody needs it: the call that ran the job removes it when it ends.
 *
 * Only a file named as the daemon names them (mkstemp's `disnix.XXXXXX`) directly in the
 * daemon's TMPDIR (`--daemon-tmpdir`) is removed: the path comes from a D-Bus answer, and a
 * daemon that is not what it should be must not get the gateway to delete any other file.
 *
 * In production the gateway runs unprivileged and the daemon as root: in a sticky /tmp the
 * gateway may not delete root's files. Start-up checks the directory's permissions; when the
 * gateway may not clean it, one warning says what to do and calls leave the files alone, so
 * that no call logs the same complaint again. A removal that fails anyway says so once, too.
 */
export interface DaemonFileRemover {
  remove(path: string): Promise<void>;
}

/** Who the gateway runs as; the checks of the directory's mode bits are made for this user. */
export interface Identity {
  readonly uid: number;
  readonly gids: readonly number[];
}

/** How disnix-service names its temporary files: mkstemp's template `disnix.XXXXXX`. */
const DAEMON_TEMP_NAME = /^disnix\.[A-Za-z0-9]{6}$/;

const HOW_TO =
  "give disnix-service a TMPDIR that the gateway's group may clean (a directory of the group, mode 0770, no sticky bit; " +
  "README: 'Temporary files of disnix-service') and name it with --daemon-tmpdir";

export class DaemonTempFiles implements DaemonFileRemover {
  readonly dir: string;
  /** undefined until the start-up check has answered: until then removals are tried. */
  #removable: boolean | undefined;
  #toldElsewhere = false;

  constructor(
    dir: string,
    private readonly logger: Logger,
    private readonly identity: Identity = currentIdentity(),
  ) {
    this.dir = resolve(dir);
  }

  /** The start-up check: may the gateway delete the daemon's files there? One warning if not. */
  async probe(): Promise<boolean> {
    const problem = await this.#whyNotRemovable();
    this.#removable = problem === undefined;
    if (problem !== undefined) this.#warn(problem);
    return this.#removable;
  }

  /** Removes a file a job of this call named, if it is one of the daemon's; never fails. */
  async remove(path: string): Promise<void> {
    if (this.#removable === false) return;
    if (resolve(dirname(path)) !== this.dir || !DAEMON_TEMP_NAME.test(basename(path))) {
      if (!this.#toldElsewhere) {
        this.#toldElsewhere = true;
        this.logger.warn(
          `disnix-service wrote ${path}, not a disnix.XXXXXX file of --daemon-tmpdir ${this.dir}: the gateway leaves such files alone; ` +
            "set --daemon-tmpdir to disnix-service's TMPDIR (this is said once)",
        );
      }
      return;
    }
    try {
      await unlink(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      this.#removable = false;
      this.#warn(`removing ${path} failed: ${code ?? (error as Error).message}`);
    }
  }

  #warn(problem: string): void {
    this.logger.warn(
      `the gateway cannot remove the closures and configurations disnix-service leaves in ${this.dir} (${problem}); ` +
        `they stay there and fill the disk: ${HOW_TO}`,
      { daemonTmpdir: this.dir },
    );
  }

  /** Reads the directory's mode bits for the gateway's user (root may delete anything). */
  async #whyNotRemovable(): Promise<string | undefined> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.dir);
    } catch (error) {
      return `it cannot be examined: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
    if (!info.isDirectory()) return 'it is not a directory';
    const { uid, gids } = this.identity;
    if (uid === 0) return undefined;
    const bits = info.uid === uid ? (info.mode >> 6) & 7 : gids.includes(info.gid) ? (info.mode >> 3) & 7 : info.mode & 7;
    if ((bits & 3) !== 3) return `user ${uid} may not write in it`;
    // In a sticky directory only a file's owner (or the directory's) may delete it; the daemon's are root's.
    if (info.mode & 0o1000 && info.uid !== uid) return `it has the sticky bit, like /tmp, and belongs to user ${info.uid}`;
    return undefined;
  }
}

function currentIdentity(): Identity {
  return { uid: process.getuid?.() ?? -1, gids: process.getgroups?.() ?? [] };
}
