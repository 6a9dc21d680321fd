import * as dbus from 'dbus-next';
import { DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from '../server/dbus/disnix-interface';
import type { DemoEnv } from './demo-layout';
import { JOB_METHODS } from './demo-methods';
import { JobRunner, type JobSignals } from './demo-jobs';
import { DisnixObject, configureDisnixObject } from './disnix-object';

/** The exported org.nixos.disnix.Disnix object: every job method runs through the JobRunner. */
class DisnixInterface extends DisnixObject {
  readonly runner: JobRunner;

  constructor(env: DemoEnv, jobDelayMs: number, lastUsedId: number) {
    super(env.layout.logDir);
    const signals: JobSignals = {
      finish: (pid) => this.finish(pid),
      success: (pid, paths) => this.success(pid, paths),
      failure: (pid) => this.failure(pid),
    };
    this.runner = new JobRunner(env, signals, jobDelayMs, lastUsedId);
  }

  get_job_id(): number {
    return this.runner.nextId();
  }
}

type JobEntry = (this: DisnixInterface, pid: number, ...args: unknown[]) => Promise<void>;
const prototype = DisnixInterface.prototype as unknown as Record<string, JobEntry>;
const methods: Record<string, dbus.interface.MethodOptions> = {};
for (const [name, method] of Object.entries(JOB_METHODS)) {
  prototype[name] = function (pid, ...args) {
    return this.runner.start(method, pid, args);
  };
  methods[name] = { inSignature: `i${method.signature}` };
}
configureDisnixObject(DisnixInterface, methods);

/** Exports the interface and makes calls with wrong argument types fail as InvalidArgs. */
export function exportDisnixInterface(bus: dbus.MessageBus, env: DemoEnv, jobDelayMs: number, lastUsedId: number): void {
  bus.export(DISNIX_OBJECT_PATH, new DisnixInterface(env, jobDelayMs, lastUsedId));
  // dbus-next answers a known method called with another signature as UnknownMethod; the
  // real daemon (GDBus) says InvalidArgs, and clients may rely on the difference.
  bus.addMethodHandler((msg: dbus.Message) => {
    if (msg.path !== DISNIX_OBJECT_PATH || msg.interface !== DISNIX_INTERFACE) return false;
    if (!Object.hasOwn(methods, msg.member)) return false;
    const expected = methods[msg.member]?.inSignature ?? '';
    if ((msg.signature ?? '') === expected) return false;
    bus.send(
      dbus.Message.newError(
        // newError takes the call being answered; its type declaration says string.
        msg as unknown as string,
        'org.freedesktop.DBus.Error.InvalidArgs',
        `Type of message, '(${msg.signature ?? ''})', does not match expected type '(${expected})'`,
      ),
    );
    return true;
  });
}
