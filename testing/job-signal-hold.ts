import type { DisnixBus } from '../server/dbus/bus-connection';

/**
 * Holds back the job signals (finish/success/failure) that an in-process gateway's bus
 * connection received, until release(): the daemon runs and ends its jobs as usual and its
 * signals cross the real D-Bus, but the gateway's calls stay waiting for them. A test can so
 * bring any number of calls to be in flight at once, whatever the speed of the machine, then
 * let them all be answered (in the order the signals came).
 */
export interface JobSignalHold {
  /** Signals received and not yet passed on. */
  readonly held: number;
  /** Passes on every held signal, then stops holding. Idempotent. */
  release(): void;
}

export function holdJobSignals(bus: DisnixBus): JobSignalHold {
  const held: unknown[][] = [];
  const emit = bus.emit.bind(bus) as (event: string, ...args: unknown[]) => boolean;
  let holding = true;
  // An own property shadowing EventEmitter's emit on this one instance; release() removes it.
  Object.defineProperty(bus, 'emit', {
    configurable: true,
    writable: true,
    value: (event: string, ...args: unknown[]) => {
      if (holding && event === 'jobSignal') {
        held.push(args);
        return true;
      }
      return emit(event, ...args);
    },
  });
  return {
    get held() {
      return held.length;
    },
    release() {
      if (!holding) return;
      holding = false;
      delete (bus as { emit?: unknown }).emit;
      for (const args of held.splice(0)) emit('jobSignal', ...args);
    },
  };
}
