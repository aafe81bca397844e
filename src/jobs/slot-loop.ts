/**
 * The fetch loop behind `JobQueue.workSlots` and callback delivery: fetches
 * (claims) as many jobs as there are free
 * slots and starts each at once. It fetches again when a slot frees while
 * jobs are waiting (the last fetch filled every free slot), when a job is
 * sent on this node, and after the polling interval (other nodes' jobs).
 * Slots freed in one event-loop turn share one fetch.
 */
export class SlotLoop {
  private free: number;
  private stopped = false;
  /** Jobs may be waiting: the last fetch filled every free slot, or a job was sent on this node since. */
  private demand = true;
  /** A job was sent on this node while a fetch ran: the fetch may not have seen it. */
  private sentDuringFetch = false;
  private refillScheduled = false;
  private signal: (() => void) | undefined;

  constructor(
    slots: number,
    private readonly pollingIntervalMs: number,
  ) {
    this.free = slots;
  }

  /** A job was sent on this node. */
  wake(): void {
    this.demand = true;
    this.sentDuringFetch = true;
    this.signal?.();
  }

  stop(): void {
    this.stopped = true;
    this.signal?.();
  }

  async run<T>(fetch: (count: number) => Promise<T[]>, start: (item: T) => Promise<void>): Promise<void> {
    while (!this.stopped) {
      if (this.free === 0 || !this.demand) {
        if (await this.sleep()) this.demand = true;
        continue;
      }
      const requested = this.free;
      this.sentDuringFetch = false;
      const jobs = await fetch(requested).catch(() => [] as T[]);
      this.demand = jobs.length === requested || this.sentDuringFetch;
      for (const job of jobs) {
        this.free -= 1;
        void start(job).finally(() => this.slotFreed());
      }
    }
  }

  private slotFreed(): void {
    this.free += 1;
    if (!this.demand || this.refillScheduled) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      this.signal?.();
    });
  }

  /** Waits for a signal or the polling interval; true when the interval passed. */
  private sleep(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.signal = undefined;
        resolve(true);
      }, this.pollingIntervalMs);
      this.signal = () => {
        clearTimeout(timer);
        this.signal = undefined;
        resolve(false);
      };
    });
  }
}

