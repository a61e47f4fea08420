import { useCallback, useEffect, useState } from 'react';
import { apiGet, errorMessage, isAbort } from './api';

/** Sets document.title to "<page> · CDC console". */
export function useTitle(page: string): void {
  useEffect(() => {
    document.title = `${page} · CDC console`;
  }, [page]);
}

export interface ApiState<T> {
  data: T | null;
  error: string | null;
  /** True until the first answer (data or error) for the current path. */
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (null: nothing) and, with `intervalMs`, again every interval.
 * Keeps the last good data while a refresh fails; aborts on unmount or path change.
 */
export function useApi<T>(path: string | null, intervalMs?: number): ApiState<T> {
  // Each answer is tagged with its path, so a new path never shows the old data
  // and `loading` is true from the very first render with that path.
  const [answer, setAnswer] = useState<{ path: string; data: T | null; error: string | null } | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    let timer: number | undefined;
    const run = (): void => {
      apiGet<T>(path, { signal: ctl.signal })
        .then((d) => setAnswer({ path, data: d, error: null }))
        .catch((err: unknown) => {
          if (isAbort(err)) return;
          // Keep the last good data of this path while a refresh fails.
          setAnswer((prev) => ({ path, data: prev?.path === path ? prev.data : null, error: errorMessage(err) }));
        })
        .finally(() => {
          if (!ctl.signal.aborted && intervalMs) timer = window.setTimeout(run, intervalMs);
        });
    };
    run();
    return () => {
      ctl.abort();
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [path, intervalMs, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = answer !== null && answer.path === path ? answer : null;
  return {
    data: current?.data ?? null,
    error: current?.error ?? null,
    loading: path !== null && current === null,
    reload,
  };
}

/** A value kept in localStorage / sessionStorage as JSON. */
export function useStored<T>(storage: 'local' | 'session', key: string, initial: T): [T, (v: T) => void] {
  const store = storage === 'local' ? window.localStorage : window.sessionStorage;
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = store.getItem(key);
      return raw === null ? initial : (JSON.parse(raw) as T);
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (v: T) => {
      setValue(v);
      try {
        store.setItem(key, JSON.stringify(v));
      } catch {
        /* storage full or disabled: keep it in memory */
      }
    },
    [store, key],
  );
  return [value, set];
}
