/**
 * Merchant requests first. A node's Gate requests (a merchant's server waits
 * on each answer) and its background work (provider jobs, callback
 * deliveries) share one event loop, and, on a small machine, the same cores
 * as PostgreSQL. While many Gate requests are in flight on this node, its
 * background loops run at most a floor of their slots, so the answers do
 * not queue behind the processing of the payments accepted before them.
 * Background work never stops: the floor keeps it moving, the work is
 * durable in the database meanwhile, and every slot comes back once the
 * requests in flight have stayed at a quarter of the threshold or fewer for
 * a moment (docs/performance.md, "Merchant requests first").
 */
export class IntakePressure {
  private inFlight = 0;
  /** When the current pressure started (performance.now()); undefined while there is none. */
  private pressedSinceMs: number | undefined;
  /** The time of the pressures that ended. */
  private pressedEndedMs = 0;
  /** Set while the requests in flight are few: pressure ends when it fires. */
  private reliefTimer: NodeJS.Timeout | undefined;
  private readonly reliefListeners = new Set<() => void>();

  /**
   * `threshold`: Gate requests in flight from which background work shrinks
   * to its floor (0 turns the priority off); `holdMs`: how long they must
   * stay at a quarter of it or fewer before the slots come back.
   */
  constructor(
    readonly threshold: number,
    private readonly holdMs = 100,
  ) {}

  /**
   * From the moment the requests in flight reach the threshold until they
   * have stayed at a quarter of it or fewer for `holdMs`. A closed loop of
   * merchants' requests dips that low for a few milliseconds at a time (a
   * group accept answers several at once, and the next ones are still on
   * their way): had every slot refilled at each dip, that burst of
   * processing was what the next requests queued behind.
   */
  get high(): boolean {
    return this.pressedSinceMs !== undefined;
  }

  /** Seconds background work has run on its floor since the node started (for `/metrics`). */
  get yieldedSeconds(): number {
    const current = this.pressedSinceMs === undefined ? 0 : performance.now() - this.pressedSinceMs;
    return (this.pressedEndedMs + current) / 1000;
  }

  /** Gate requests in flight on this node now. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Counts a Gate request from its start to its answer; `leave` must follow, once. */
  enter(): void {
    this.inFlight += 1;
    if (this.inFlight > this.lowWatermark) this.cancelRelief();
    if (this.threshold > 0 && this.inFlight >= this.threshold && !this.high) this.pressedSinceMs = performance.now();
  }

  leave(): void {
    this.inFlight -= 1;
    if (!this.high || this.inFlight > this.lowWatermark || this.reliefTimer) return;
    this.reliefTimer = setTimeout(() => this.relieve(), this.holdMs);
    this.reliefTimer.unref();
  }

  private get lowWatermark(): number {
    return Math.floor(this.threshold / 4);
  }

  private cancelRelief(): void {
    clearTimeout(this.reliefTimer);
    this.reliefTimer = undefined;
  }

  private relieve(): void {
    this.reliefTimer = undefined;
    this.pressedEndedMs += performance.now() - this.pressedSinceMs!;
    this.pressedSinceMs = undefined;
    for (const listener of this.reliefListeners) listener();
  }

  /** The slots a background loop of `slots` may fill now. */
  slotsFor(slots: number): number {
    return this.high ? Math.min(slots, floorSlots) : slots;
  }

  /** Calls `listener` each time the pressure ends (the slots came back). */
  onRelief(listener: () => void): () => void {
    this.reliefListeners.add(listener);
    return () => this.reliefListeners.delete(listener);
  }
}

/**
 * Slots a background loop keeps under pressure: one keeps payments moving
 * (a job mostly waits on I/O) and takes the least from the requests.
 */
const floorSlots = 1;
