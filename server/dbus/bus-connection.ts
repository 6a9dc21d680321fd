import { EventEmitter } from 'node:events';
import * as dbus from 'dbus-next';
import { GatewayError } from '../errors/error-catalogue';
import type { Logger } from '../logging/logger';
import { DISNIX_BUS_NAME, DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from './disnix-interface';

const CONNECT_TIMEOUT_MS = 10_000;
const DBUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

/**
 * Match rules on the raw message stream rather than proxy objects: a proxy's cached name owner
 * goes stale when disnix-service restarts, and it then misses signals.
 */
const MATCH_RULES = [
  `type='signal',interface='${DISNIX_INTERFACE}',path='${DISNIX_OBJECT_PATH}'`,
  `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${DISNIX_BUS_NAME}'`,
];

interface Live {
  readonly bus: dbus.MessageBus;
  /** The call's outcome, or a rejection once the connection is lost, so that calls in flight end instead of hanging. */
  untilLost<T>(call: Promise<T>): Promise<T>;
}

export interface DisnixBusEvents {
  /** A signal of the disnix interface. */
  jobSignal: [message: dbus.Message];
  /** The unique name owning org.nixos.disnix.Disnix changed ('' = nobody). */
  ownerChanged: [oldOwner: string, newOwner: string];
  /** The connection to the bus was lost; the next call connects again. */
  disconnected: [reason: Error];
  connected: [];
}

/**
 * One connection per gateway to the bus where disnix-service runs, made on first use and made
 * again on the next use after it was lost (dbus-daemon restarted, socket gone).
 */
export class DisnixBus extends EventEmitter<DisnixBusEvents> {
  #live: Promise<Live> | undefined;
  #currentBus: dbus.MessageBus | undefined;
  #owner: string | undefined;
  #closed = false;
  #reconnects = 0;

  constructor(
    readonly address: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** The unique bus name of the running disnix-service, if any is known to run. */
  get daemonOwner(): string | undefined {
    return this.#owner;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** Calls a method of the disnix interface (or of the bus itself when `target` says so). */
  async call(member: string, signature: string, body: unknown[], target: 'disnix' | 'bus' = 'disnix'): Promise<dbus.Message> {
    const live = await this.#connection();
    const message = new dbus.Message(
      target === 'bus'
        ? { ...DBUS, member, signature, body }
        : { destination: DISNIX_BUS_NAME, path: DISNIX_OBJECT_PATH, interface: DISNIX_INTERFACE, member, signature, body },
    );
    const reply = await live.untilLost(live.bus.call(message));
    if (reply === null) throw new GatewayError('GW_ERR_DBUS_REJECTED', `D-Bus gave no reply to ${member}`);
    return reply;
  }

  /** Connects if needed and reports whether disnix-service owns its name now. */
  async isDaemonReady(): Promise<boolean> {
    try {
      await this.#connection();
      return this.#owner !== undefined;
    } catch {
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    void this.#live?.then((live) => live.bus.disconnect()).catch(() => undefined);
    this.#live = undefined;
  }

  #connection(): Promise<Live> {
    if (this.#closed) return Promise.reject(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    if (!this.#live) {
      this.#live = this.#connect().catch((error: unknown) => {
        this.#live = undefined;
        throw error;
      });
    }
    return this.#live;
  }

  async #connect(): Promise<Live> {
    const bus = dbus.sessionBus({ busAddress: this.address });
    this.#currentBus = bus;
    let loseConnection!: (reason: Error) => void;
    const lost = new Promise<never>((_, reject) => (loseConnection = reject));
    lost.catch(() => undefined); // observed while connecting; nobody else must see it unhandled

    // The calls in flight, rejected when the connection is lost. Not a race against `lost`: that
    // left a reaction on it for every call ever made on the connection (about 0.7 KB each).
    const inFlight = new Set<(reason: Error) => void>();
    let lostWith: Error | undefined;
    const untilLost = <T>(call: Promise<T>): Promise<T> => {
      if (lostWith) return Promise.reject(lostWith);
      return new Promise<T>((resolve, reject) => {
        inFlight.add(reject);
        call.then(resolve, reject).finally(() => inFlight.delete(reject));
      });
    };

    let dead = false;
    const die = (reason: Error) => {
      if (dead) return;
      dead = true;
      lostWith = new GatewayError('GW_ERR_BUS_UNAVAILABLE', `lost the D-Bus connection to ${this.address}: ${reason.message.replace(/^Error: /, '')}`, {
        cause: reason,
      });
      loseConnection(lostWith);
      for (const reject of inFlight) reject(lostWith);
      inFlight.clear();
      if (this.#currentBus === bus) {
        this.#currentBus = undefined;
        this.#live = undefined;
        this.#owner = undefined;
      }
      this.emit('disconnected', reason);
      bus.removeAllListeners('message');
    };
    // Without an 'error' listener dbus-next takes the whole process down with the socket.
    bus.on('error', (error: Error) => {
      this.logger.debug('D-Bus connection error', { address: this.address, error: String(error?.message ?? error) });
      die(error instanceof Error ? error : new Error(String(error)));
    });
    // dbus-next does not report the end of the stream itself; calls in flight would never settle.
    // Its socket is on the connection, which MessageBus does not type.
    const stream = (bus as unknown as { _connection: { stream: EventEmitter } })._connection.stream;
    stream.once('close', () => die(new Error('the bus closed the connection')));

    await withTimeout(
      new Promise<void>((resolve, reject) => {
        bus.once('connect', () => resolve());
        lost.catch(reject);
      }),
      CONNECT_TIMEOUT_MS,
      `no answer from D-Bus at ${this.address} within ${CONNECT_TIMEOUT_MS / 1000} s`,
    ).catch((error: unknown) => {
      bus.disconnect();
      const reason = error instanceof GatewayError ? error.message : String(error);
      throw new GatewayError('GW_ERR_BUS_UNAVAILABLE', `cannot connect to D-Bus at ${this.address}: ${reason}`, { cause: error });
    });

    bus.on('message', (message) => this.#dispatch(message));
    const live: Live = { bus, untilLost };
    const call = (member: string, signature: string, body: unknown[]) => untilLost(bus.call(new dbus.Message({ ...DBUS, member, signature, body })));
    for (const rule of MATCH_RULES) await call('AddMatch', 's', [rule]);
    try {
      const reply = await call('GetNameOwner', 's', [DISNIX_BUS_NAME]);
      this.#owner = reply?.body[0] as string;
    } catch {
      this.#owner = undefined; // NameHasNoOwner: the daemon is not running (yet)
    }
    if (this.#reconnects++ > 0) this.logger.info('reconnected to D-Bus', { address: this.address, daemon: this.#owner ?? 'absent' });
    this.emit('connected');
    return live;
  }

  #dispatch(message: dbus.Message): void {
    if (message.type !== dbus.MessageType.SIGNAL) return;
    if (message.interface === DISNIX_INTERFACE && message.path === DISNIX_OBJECT_PATH) {
      this.emit('jobSignal', message);
    } else if (message.member === 'NameOwnerChanged' && message.sender === 'org.freedesktop.DBus') {
      const [name, oldOwner, newOwner] = message.body as [string, string, string];
      if (name !== DISNIX_BUS_NAME) return;
      this.#owner = newOwner === '' ? undefined : newOwner;
      this.emit('ownerChanged', oldOwner, newOwner);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
