/**
 * EnvList: an immutable ordered map of environment variables (kept in the order of first
 * definition), made for the way Dockerfile stages grow: one variable at a time, each new list
 * extending the previous one. `set` is O(1). Reads are O(1) amortized along such a line: the
 * materialized map of a list is handed over to the list that extends it, instead of copied.
 * Reading an older list again (a stage that several others build on) rebuilds its map once,
 * from the nearest list that still holds one. So 10,000 ENV lines cost 10,000 steps, not
 * 10,000 copies of a growing list.
 *
 * Contract: an EnvList never changes. `view()` gives a ReadonlyMap that reads through the list
 * at each call, so it stays right whoever takes over the map later.
 */
interface Materialized {
  map: Map<string, string>;
  /** Keys in order of first definition. */
  order: string[];
}

export class EnvList {
  static readonly EMPTY = new EnvList(null, '', '');

  readonly #parent: EnvList | null;
  readonly #key: string;
  readonly #value: string;
  #held?: Materialized;
  #entries?: readonly (readonly [string, string])[];
  #view?: ReadonlyMap<string, string>;

  private constructor(parent: EnvList | null, key: string, value: string) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
    if (!parent) this.#held = { map: new Map(), order: [] };
  }

  /** From `[key, value]` pairs (a later pair replaces an earlier one of the same key). */
  static of(pairs: Iterable<readonly [string, string]>): EnvList {
    let l = EnvList.EMPTY;
    for (const [k, v] of pairs) l = l.set(k, v);
    return l;
  }

  /** This list with `key` set to `value` (an existing key keeps its place). */
  set(key: string, value: string): EnvList {
    return new EnvList(this, key, value);
  }

  get(key: string): string | undefined {
    return this.#materialize().map.get(key);
  }

  get size(): number {
    return this.#materialize().order.length;
  }

  /** The pairs in order; the same frozen array on every call for this list. */
  entries(): readonly (readonly [string, string])[] {
    if (!this.#entries) {
      const m = this.#materialize();
      this.#entries = Object.freeze(m.order.map((k) => Object.freeze([k, m.map.get(k)!] as const)));
    }
    return this.#entries;
  }

  /** The names in order (a copy: cheaper than entries() for a list read once). */
  keys(): string[] {
    return [...this.#materialize().order];
  }

  /** A read-only Map view of this list (for variable expansion). */
  view(): ReadonlyMap<string, string> {
    this.#view ??= envView(this);
    return this.#view;
  }

  /** Takes the map away from this list (it rebuilds one when read again). */
  #take(): Materialized {
    const m = this.#materialize();
    if (!this.#parent) return { map: new Map(m.map), order: [...m.order] }; // the shared empty root keeps its map
    this.#held = undefined;
    return m;
  }

  #materialize(): Materialized {
    if (this.#held) return this.#held;
    // Walk up to the nearest list holding a map: take it over when it is our parent (the
    // usual case), else copy it and replay the sets in between.
    const chain: EnvList[] = [];
    let cur: EnvList = this;
    while (!cur.#held) {
      chain.push(cur);
      cur = cur.#parent!;
    }
    const m = chain.length === 1 ? cur.#take() : { map: new Map(cur.#held.map), order: [...cur.#held.order] };
    for (let i = chain.length - 1; i >= 0; i--) {
      const n = chain[i]!;
      if (!m.map.has(n.#key)) m.order.push(n.#key);
      m.map.set(n.#key, n.#value);
    }
    this.#held = m;
    return m;
  }
}

function envView(list: EnvList): ReadonlyMap<string, string> {
  const pairs = () => list.entries();
  const view: ReadonlyMap<string, string> = {
    get: (k) => list.get(k),
    has: (k) => list.get(k) !== undefined,
    get size() {
      return list.size;
    },
    forEach(fn, thisArg) {
      for (const [k, v] of pairs()) fn.call(thisArg, v, k, view);
    },
    *entries() {
      for (const [k, v] of pairs()) yield [k, v] as [string, string];
    },
    *keys() {
      yield* list.keys();
    },
    *values() {
      for (const [, v] of pairs()) yield v;
    },
    [Symbol.iterator]() {
      return view.entries();
    },
  } as ReadonlyMap<string, string>;
  return view;
}
