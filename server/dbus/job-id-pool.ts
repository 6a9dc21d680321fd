/** A job id and the unique bus name of the disnix-service instance that handed it out. */
export interface IssuedJobId {
  readonly jobId: number;
  readonly owner: string;
}

/**
 * Job ids asked for ahead of the calls that use them. Every job needs an id from get_job_id
 * before its method can be called, and that is a whole D-Bus round trip (gateway, dbus-daemon,
 * disnix-service and back) on each call's critical path; fetched ahead, it overlaps with the
 * work of earlier calls instead. disnix-service hands out ids from a counter and keeps no state
 * for an id until a job is started with it, so an id fetched and never used costs nothing.
 *
 * An id is only valid at the daemon instance that issued it: ids of another owner (the daemon
 * restarted) are dropped when taken, and clear() drops them all when the owner changes or the
 * bus connection is lost. Nothing is fetched until the first call takes an id, so an idle
 * gateway makes no calls.
 */
export class JobIdPool {
  #ids: IssuedJobId[] = [];
  #fetching = 0;
  /** Bumped by clear(), so that a fetch under way when the owner changed is not kept. */
  #generation = 0;
  #refillScheduled = false;

  constructor(
    private readonly fetchId: () => Promise<IssuedJobId>,
    /** The unique name owning org.nixos.disnix.Disnix now, as the bus connection last saw it. */
    private readonly currentOwner: () => string | undefined,
    private readonly size: number,
  ) {}

  /** An id of the daemon running now, or undefined (the caller then asks for one itself); starts fetching more. */
  take(): IssuedJobId | undefined {
    const owner = this.currentOwner();
    let taken: IssuedJobId | undefined;
    while (taken === undefined && this.#ids.length > 0) {
      const next = this.#ids.shift()!;
      if (next.owner === owner) taken = next;
    }
    // After this turn, not now: the caller's own method call is then written first, and the
    // marshalling of the refills overlaps with the daemon running that job instead of delaying it.
    if (owner !== undefined && !this.#refillScheduled) {
      this.#refillScheduled = true;
      setImmediate(() => {
        this.#refillScheduled = false;
        this.#refill();
      });
    }
    return taken;
  }

  /** Forgets every id: the daemon that issued them is gone, or the connection is. */
  clear(): void {
    this.#ids = [];
    this.#generation += 1;
  }

  get available(): number {
    return this.#ids.length;
  }

  #refill(): void {
    if (this.currentOwner() === undefined) return;
    while (this.#ids.length + this.#fetching < this.size) {
      this.#fetching += 1;
      const generation = this.#generation;
      this.fetchId()
        .then(
          (id) => {
            if (generation === this.#generation && id.owner === this.currentOwner()) this.#ids.push(id);
          },
          // A failed fetch costs nothing: the next call asks for its id itself and reports the failure.
          () => undefined,
        )
        .finally(() => (this.#fetching -= 1));
    }
  }
}
