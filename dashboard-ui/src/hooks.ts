import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Loads data for a screen: `data` stays shown while a reload runs (no
 * flicker), `error` is the last failure, `reload()` runs it again. A load
 * that finishes after the screen moved on (deps changed, unmounted) is
 * dropped.
 */
export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): Promise<void>;
}

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const controller = useRef<AbortController | null>(null);
  const run = useCallback(load, deps);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    setLoading(true);
    try {
      const result = await run(abort.signal);
      if (mine !== generation.current) return;
      setData(result);
      setError(undefined);
    } catch (failure) {
      if (mine !== generation.current || (failure as Error).name === 'AbortError') return;
      setError(failure);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [run]);

  useEffect(() => {
    void reload();
    return () => {
      generation.current += 1;
      controller.current?.abort();
    };
  }, [reload]);

  return { data, error, loading, reload };
}

/**
 * One action a person starts (a submit, a confirmed dialog): `busy` while it
 * runs, so its button can refuse a second click, and `error`, its last
 * failure, for an ErrorNotice. `run` starts by clearing the previous error
 * and answers whether the action succeeded, so the caller decides what
 * follows (close a dialog, show a confirmation).
 */
export interface Action {
  busy: boolean;
  error: unknown;
  run(action: () => Promise<void>): Promise<boolean>;
  clearError(): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  async function run(action: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run, clearError: () => setError(undefined) };
}

/**
 * Calls `tick` every `intervalMs` while `active`, at most `maxTicks` times
 * (a bound, so a screen left open does not poll for ever).
 */
export function usePolling(active: boolean, tick: () => void | Promise<void>, intervalMs = 1_000, maxTicks = 600): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    let ticks = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const step = async () => {
      if (stopped || ticks >= maxTicks) return;
      ticks += 1;
      try {
        await latest.current();
      } finally {
        if (!stopped) timer = setTimeout(step, intervalMs);
      }
    };
    timer = setTimeout(step, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [active, intervalMs, maxTicks]);
}
