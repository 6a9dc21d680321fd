import * as dbus from 'dbus-next';
import { DISNIX_INTERFACE } from '../server/dbus/disnix-interface';

/**
 * What every stand-in for disnix-service exports besides its job methods: job ids, the log
 * directory, and the three signals that end a job. The demo daemon and the transfer
 * benchmark's stand-in both build on it. Calling a signal method emits the signal with what it
 * returns (dbus-next's configured signals).
 */
export abstract class DisnixObject extends dbus.interface.Interface {
  readonly #logDir: string;

  constructor(logDir: string) {
    super(DISNIX_INTERFACE);
    this.#logDir = logDir;
  }

  abstract get_job_id(): number;

  get_logdir(): string {
    return this.#logDir;
  }

  finish(pid: number): unknown {
    return pid;
  }

  success(pid: number, paths: string[]): unknown {
    return [pid, paths];
  }

  failure(pid: number): unknown {
    return pid;
  }
}

/** Declares a subclass's members to dbus-next: the common ones above plus its job methods. */
export function configureDisnixObject(klass: Pick<typeof DisnixObject, 'configureMembers'>, jobMethods: Record<string, dbus.interface.MethodOptions>): void {
  klass.configureMembers({
    methods: { get_job_id: { inSignature: '', outSignature: 'i' }, get_logdir: { inSignature: '', outSignature: 's' }, ...jobMethods },
    signals: { finish: { signature: 'i' }, success: { signature: 'ias' }, failure: { signature: 'i' } },
  });
}
