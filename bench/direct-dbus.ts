import * as dbus from 'dbus-next';
import { DISNIX_BUS_NAME, DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from '../server/dbus/disnix-interface';

/**
 * The baseline: a disnix-service job made straight over D-Bus with dbus-next, the way the
 * gateway makes it (get_job_id, a match rule for the signals, the method, its signal), without
 * HTTP, SOAP, auth or logging.
 */
export interface DirectDisnix {
  run(method: string, signature: string, args: readonly unknown[]): Promise<readonly string[]>;
  close(): void;
}

export async function connectDirect(busAddress: string): Promise<DirectDisnix> {
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', () => undefined); // a bus lost mid-run fails the calls, not the process
  await new Promise<void>((resolve) => bus.once('connect', () => resolve()));
  const waiting = new Map<number, { resolve(results: string[]): void; reject(error: Error): void }>();
  bus.on('message', (message: dbus.Message) => {
    if (message.type !== dbus.MessageType.SIGNAL || message.interface !== DISNIX_INTERFACE) return;
    const [jobId, results] = message.body as [number, string[] | undefined];
    const job = waiting.get(jobId);
    if (!job) return;
    waiting.delete(jobId);
    if (message.member === 'failure') job.reject(new Error(`job ${jobId} failed`));
    else job.resolve(results ?? []);
  });
  const call = (
    member: string,
    signature: string,
    body: unknown[],
    target = { destination: DISNIX_BUS_NAME, path: DISNIX_OBJECT_PATH, interface: DISNIX_INTERFACE },
  ) => bus.call(new dbus.Message({ ...target, member, signature, body }));
  await call('AddMatch', 's', [`type='signal',interface='${DISNIX_INTERFACE}',path='${DISNIX_OBJECT_PATH}'`], {
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    interface: 'org.freedesktop.DBus',
  });
  return {
    async run(method, signature, args) {
      const reply = await call('get_job_id', '', []);
      const jobId = reply?.body[0] as number;
      const done = new Promise<string[]>((resolve, reject) => waiting.set(jobId, { resolve, reject }));
      await call(method, `i${signature}`, [jobId, ...args]);
      return done;
    },
    close: () => bus.disconnect(),
  };
}
