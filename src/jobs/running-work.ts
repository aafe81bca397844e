/**
 * Work under way on this node (job handlers, callback attempts), so that a
 * stopping node lets it finish, within a bound, before the pool closes under
 * it: work cut off that way would fail for nothing.
 */
export class RunningWork {
  private readonly running = new Set<Promise<void>>();

  /** Tracks `work` until it settles; resolves with it. */
  async track(work: Promise<void>): Promise<void> {
    this.running.add(work);
    await work.finally(() => this.running.delete(work));
  }

  /** Waits until everything tracked has settled, or `waitMs` has passed. */
  async settle(waitMs: number): Promise<void> {
    const waited = new Promise((resolve) => setTimeout(resolve, waitMs).unref());
    await Promise.race([Promise.allSettled([...this.running]), waited]);
  }
}
