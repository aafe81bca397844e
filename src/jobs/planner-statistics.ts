/**
 * Keeps the plans of pg-boss's hot statements sane on a fresh database.
 *
 * pg-boss's fetch and completion run as generic plans on its connections
 * (planned once per connection, see `JobQueue`). A plan made while a queue's
 * partition is still empty treats it as tiny: the fetch then finds each job
 * it updates by scanning every job of the queue, so its cost grows with the
 * partition. The plan stays cached until the partition's statistics change,
 * and autovacuum analyzes only after its naptime (a minute by default), by
 * which time a busy node has written thousands of jobs. Measured with
 * `npm run bench -- --quick`: fetch 2.25 -> 0.32 ms and completion 0.75 ->
 * 0.40 ms of PostgreSQL time once the partitions were analyzed.
 *
 * So a partition that holds `rowsBeforeFirstAnalyze` rows and was never
 * analyzed is analyzed at once; its cached plans are rebuilt with lookups by
 * id, and autovacuum keeps the statistics current from there.
 */
export interface StatementRunner {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

const rowsBeforeFirstAnalyze = 1_000;
const checkIntervalMs = 5_000;

export class PlannerStatisticsKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: StatementRunner,
    private readonly schema: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.analyzeNewPartitions()
        .then(() => undefined, () => undefined)
        .finally(() => (this.running = undefined));
    }, checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Analyzes the schema's tables that hold enough rows and have never been analyzed; returns their names. */
  async analyzeNewPartitions(): Promise<string[]> {
    const { rows } = await this.db.executeSql(
      `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
        WHERE schemaname = $1 AND n_live_tup + n_dead_tup >= $2 AND last_analyze IS NULL AND last_autoanalyze IS NULL`,
      [this.schema, rowsBeforeFirstAnalyze],
    );
    const names = rows.map((row) => String(row.name));
    // One at a time: ANALYZE samples the table, and the node is busy.
    for (const name of names) await this.db.executeSql(`ANALYZE ${name}`);
    return names;
  }
}
