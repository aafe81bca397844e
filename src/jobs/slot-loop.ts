import type { IntakePressure, ResumeLoop } from './intake-pressure.ts';

/**
 * The fetch loop behind job workers (`JobQueue.work`) and callback delivery:
 * fetches (claims) as many items as there are free slots and starts each at
 * once. It fetches again when a slot frees while items are waiting (the last
 * fetch filled every free slot), when one is sent on this node, and after
 * the polling interval (other nodes' items). Slots freed in one event-loop
 * turn share one fetch. Items offered directly (`offer`) take the next free
 * slot before anything fetched, without a fetch of their own; they start
 * after the current event-loop turn, so the code that offered them (a
 * request that wrote them) finishes first.
 */
export class SlotLoop<T> {
  /** Slots taken: items running, and those a fetch under way holds. */
  private busy = 0;
  private stopped = false;
  /** Items may be waiting: the last fetch filled every free slot, or one was sent on this node since. */
  private demand = true;
  /** An item was sent on this node while a fetch ran: the fetch may not have seen it. */
  private sentDuringFetch = false;
  private refillScheduled = false;
  private signal: (() => void) | undefined;
  private start: ((item: T) => Promise<void>) | undefined;
  /** Items handed to this loop, waiting for a free slot (oldest first). */
  private readonly offered: T[] = [];
  private offerScheduled = false;
  private readonly stopReliefListener: (() => void) | undefined;

  constructor(
    private readonly slots: number,
    private readonly pollingIntervalMs: number,
    /** Merchant requests first: while it is high, the node's loops share a floor of one slot, in turn. */
    private readonly pressure?: IntakePressure,
  ) {
    this.stopReliefListener = pressure?.onRelief(() => this.relieved());
  }

  /** Slots free now: the loop's own less those taken, within the node's floor under pressure. */
  private get free(): number {
    return this.pressure ? this.pressure.freeSlots(this.slots, this.busy, this.resume) : Math.max(0, this.slots - this.busy);
  }

  /** Start waiting offered items, and fetch if items may be waiting (the pressure fell, or the floor's turn came). */
  private readonly resume: ResumeLoop = () => {
    this.startOffered();
    if (this.demand) this.signal?.();
  };

  /** The pressure fell. */
  private relieved(): void {
    // After the current turn: the request whose answer relieved the pressure finishes first.
    setImmediate(this.resume);
  }

  private take(count: number): void {
    this.busy += count;
    this.pressure?.backgroundStarted(count, this.resume);
  }

  private give(count: number): void {
    this.busy -= count;
    this.pressure?.backgroundEnded(count);
  }

  /** An item was sent on this node (fetch it). */
  wake(): void {
    this.demand = true;
    this.sentDuringFetch = true;
    this.signal?.();
  }

  /** Starts `item` in the next free slot (now, when one is free), ahead of fetched items. Ignored once stopped. */
  offer(item: T): void {
    if (this.stopped) return;
    this.offered.push(item);
    if (this.offerScheduled) return;
    this.offerScheduled = true;
    setImmediate(() => {
      this.offerScheduled = false;
      this.startOffered();
    });
  }

  stop(): void {
    this.stopped = true;
    this.stopReliefListener?.();
    this.signal?.();
  }

  async run(fetch: (count: number) => Promise<T[]>, start: (item: T) => Promise<void>): Promise<void> {
    this.start = start;
    this.startOffered();
    while (!this.stopped) {
      if (this.free === 0 || !this.demand) {
        if (this.demand) this.pressure?.waitForFloor(this.resume);
        if (await this.sleep()) this.demand = true;
        continue;
      }
      // The fetch holds the slots it asks for, so that offered items cannot take them meanwhile.
      const requested = this.free;
      this.take(requested);
      this.sentDuringFetch = false;
      const items = await fetch(requested).catch(() => [] as T[]);
      this.give(requested - items.length);
      this.demand = items.length === requested || this.sentDuringFetch;
      for (const item of items) this.launch(item);
      this.startOffered();
    }
  }

  private launch(item: T): void {
    void this.start!(item).finally(() => this.slotFreed());
  }

  private startOffered(): void {
    while (this.start && !this.stopped && this.free > 0 && this.offered.length > 0) {
      this.take(1);
      this.launch(this.offered.shift()!);
    }
    if (this.start && !this.stopped && this.offered.length > 0) this.pressure?.waitForFloor(this.resume);
  }

  private slotFreed(): void {
    this.give(1);
    this.startOffered();
    if (this.free === 0 || !this.demand || this.refillScheduled) return;
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
