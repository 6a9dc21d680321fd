import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request id of the call being served, carried through every await of that call (the
 * SOAP handler, the D-Bus job, its timers) without threading it through each module, so that
 * any log line written on the call's behalf can name it.
 */
const requestIds = new AsyncLocalStorage<string>();

export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

export function runWithRequestId<T>(requestId: string, task: () => T): T {
  return requestIds.run(requestId, task);
}
