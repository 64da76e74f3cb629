/**
 * Variable expansion of parsed commands, for exactly what BuildKit expands (the `Expand` and
 * `ExpandRaw` methods of commands.go, plus EXPOSE's ProcessWords in the converter):
 *
 * - ENV, LABEL: keys and values (`word`); ARG: keys and values that are set (`word`);
 * - ADD: --chown, --chmod, --checksum, sources, dest; COPY: --chown, --chmod, sources, dest
 *   (`word`); heredoc sources with `expand` true: their content (`raw`, when supplied);
 * - EXPOSE: each port with `words` (one written port may become several);
 * - STOPSIGNAL, USER, WORKDIR, each VOLUME: `word`;
 * - RUN: only --mount values, via `expandMounts` (the command itself is returned unchanged).
 *
 * Never expanded: RUN/CMD/ENTRYPOINT bodies (either form), SHELL, HEALTHCHECK, MAINTAINER,
 * ONBUILD, FROM (the converter expands the base name and platform with the meta args) and
 * COPY --from (BuildKit refuses variables there: the converter checks that expanding it with no
 * variables leaves it unchanged).
 */

import type { Command, Expander, KeyValue, Mount, RunCommand } from './types.ts';
import { parseMounts } from './run-mount.ts';

function kvs(list: KeyValue[], ex: Expander): KeyValue[] {
  return list.map((kv) => ({ ...kv, key: ex.word(kv.key), value: ex.word(kv.value) }));
}

function opt(v: string | undefined, ex: Expander): string | undefined {
  return v === undefined ? undefined : ex.word(v);
}

function setOpt<T extends object, K extends keyof T>(obj: T, key: K, v: T[K] | undefined): void {
  if (v === undefined) delete obj[key];
  else obj[key] = v;
}

/**
 * An expanded deep copy of `cmd`; `cmd` itself is never modified. Expander errors propagate
 * unchanged (the caller attaches the location). Calls the expander once per expanded field,
 * in BuildKit's order.
 */
export function expandCommand<C extends Command>(cmd: C, ex: Expander): C {
  const c = structuredClone(cmd) as Command;
  switch (c.kind) {
    case 'env':
      c.env = kvs(c.env, ex);
      break;
    case 'label':
      c.labels = kvs(c.labels, ex);
      break;
    case 'arg':
      c.args = c.args.map((a) => {
        const out = { ...a, key: ex.word(a.key) };
        if (a.value !== undefined) out.value = ex.word(a.value);
        return out;
      });
      break;
    case 'add':
    case 'copy': {
      setOpt(c, 'chown', opt(c.chown, ex));
      setOpt(c, 'chmod', opt(c.chmod, ex));
      if (c.kind === 'add') setOpt(c, 'checksum', opt(c.checksum, ex));
      c.sources = c.sources.map((s) => ex.word(s));
      c.dest = ex.word(c.dest);
      const raw = ex.raw;
      if (raw) {
        c.sourceContents = c.sourceContents.map((h) => (h.expand ? { ...h, content: raw.call(ex, h.content) } : h));
      }
      break;
    }
    case 'expose':
      c.ports = c.ports.flatMap((p) => ex.words(p));
      break;
    case 'stopsignal':
      c.signal = ex.word(c.signal);
      break;
    case 'user':
      c.user = ex.word(c.user);
      break;
    case 'workdir':
      c.path = ex.word(c.path);
      break;
    case 'volume':
      c.volumes = c.volumes.map((v) => ex.word(v));
      break;
    default:
      break;
  }
  return c as C;
}

/** RUN's --mount values parsed with each value expanded (BuildKit's RunCommand.Expand). */
export function expandMounts(cmd: RunCommand, ex: Pick<Expander, 'word'>): Mount[] {
  return parseMounts(cmd.mounts, (w) => ex.word(w));
}
