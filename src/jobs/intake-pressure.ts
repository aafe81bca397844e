/**
 * Merchant requests first. A node's Gate requests (a merchant's server waits
 * on each answer) and its background work (provider jobs, callback
 * deliveries) share one event loop, and, on a small machine, the same cores
 * as PostgreSQL. While many Gate requests are in flight on this node, its
 * background loops share a floor of one slot, in turn, so the answers do
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
  /** Background items running on this node, every loop's (a fetch under way holds its slots too). */
  private backgroundRunning = 0;
  /** Loops that have work and wait for the floor under pressure, in the order they asked. */
  private readonly waitingLoops: ResumeLoop[] = [];
  /** The loop a freed floor slot is kept for until it takes it: the next in line. */
  private keptFor: ResumeLoop | undefined;

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
    // Every loop gets all its slots back (its relief listener resumes it): nobody waits in line any more.
    this.waitingLoops.length = 0;
    this.keptFor = undefined;
    for (const listener of this.reliefListeners) listener();
  }

  /**
   * The slots a worker outside the node's loops (the PayPal sandbox's
   * webhook deliveries) may fill now, of its `slots`: its own floor under
   * pressure.
   */
  slotsFor(slots: number): number {
    return this.high ? Math.min(slots, floorSlots) : slots;
  }

  /**
   * The slots the background loop `loop` may fill now, of its own `slots`
   * of which it holds `busy`: all of them without pressure; under pressure
   * what is left of the node's floor, which every loop takes in turn (a
   * slot freed while others wait is kept for the first of them).
   */
  freeSlots(slots: number, busy: number, loop: ResumeLoop): number {
    const own = Math.max(0, slots - busy);
    if (!this.high) return own;
    if (this.keptFor !== undefined && this.keptFor !== loop) return 0;
    return Math.min(own, Math.max(0, floorSlots - this.backgroundRunning));
  }

  /** `loop` took `count` slots (items it starts, or a fetch). */
  backgroundStarted(count: number, loop: ResumeLoop): void {
    this.backgroundRunning += count;
    if (this.keptFor === loop) this.keptFor = undefined;
  }

  /** A loop gave `count` slots back. */
  backgroundEnded(count: number): void {
    this.backgroundRunning -= count;
    this.offerFloor();
  }

  /** Under pressure, `loop` has work but no slot: it is resumed when its turn comes. */
  waitForFloor(loop: ResumeLoop): void {
    if (!this.high || this.keptFor === loop || this.waitingLoops.includes(loop)) return;
    this.waitingLoops.push(loop);
    this.offerFloor();
  }

  /** Gives a free floor slot to the loop first in line; passes it on if that loop does not take it. */
  private offerFloor(): void {
    if (!this.high || this.keptFor !== undefined || this.backgroundRunning >= floorSlots) return;
    const next = this.waitingLoops.shift();
    if (!next) return;
    this.keptFor = next;
    setImmediate(() => {
      next();
      // The loop takes the slot in this turn or, when it fetches, in the microtasks after it.
      setImmediate(() => {
        if (this.keptFor !== next) return;
        this.keptFor = undefined;
        this.offerFloor();
      });
    });
  }

  /** Calls `listener` each time the pressure ends (the slots came back). */
  onRelief(listener: () => void): () => void {
    this.reliefListeners.add(listener);
    return () => this.reliefListeners.delete(listener);
  }
}

/** Resumes a background loop: it starts what it can and fetches if items may be waiting. */
export type ResumeLoop = () => void;

/**
 * Slots the node's background loops share under pressure: one keeps
 * payments moving (a job mostly waits on I/O) and takes the least from the
 * requests. One per loop (four loops) took about 30 % of the event loop at
 * 32 clients (docs/performance.md, "Merchant requests first").
 */
const floorSlots = 1;
