import type { Db } from './db.ts';

/**
 * What each step's cache key was made of, per step identity (e.g. `Dockerfile [2/5]`), so
 * that a later miss can say what changed since the closest earlier build of that step.
 * Facts are the key material as JSON; they never hold secrets (secrets never enter keys).
 */
export interface StepHistory {
  /** The most recent record for `ident` whose key is not `key`. */
  previous(ident: string, key: string): { key: string; facts: unknown } | undefined;
  record(ident: string, key: string, facts: unknown): void;
}

export function openStepHistory(db: Db): StepHistory {
  const prev = db.prepare('SELECT key, facts FROM step_history WHERE ident = ? AND key != ? ORDER BY created_at DESC LIMIT 1');
  const put = db.prepare(
    'INSERT INTO step_history (ident, key, facts, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(ident, key) DO UPDATE SET created_at = excluded.created_at',
  );
  return {
    previous(ident, key) {
      const r = prev.get(ident, key) as { key: string; facts: string } | undefined;
      return r ? { key: r.key, facts: JSON.parse(r.facts) } : undefined;
    },
    record(ident, key, facts) {
      put.run(ident, key, JSON.stringify(facts), Date.now());
    },
  };
}
