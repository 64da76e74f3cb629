/**
 * Seeded mutations of Dockerfiles: line edits (drop, duplicate, swap, splice from another
 * file), token edits (flags, variables, quotes, escapes, heredocs, directives, numbers) and
 * byte edits (insert, delete, NUL, CR, unicode). Same seed, same inputs, everywhere.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYWORDS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];
const FRAGMENTS = [
  '$', '${', '}', '${A:-${B:+x}}', '${A?err}', '${A#*}', '${A%%?}', '${A//a/b}', '${', '\\', '`', '"', "'", '<<EOF', '<<-"EOF"', '\nEOF\n', '[', ']', '["a",', '{', '=', '==', ' = ', '--mount=type=cache,target=/c', '--mount=type=bind,from=x,source=/', '--mount=type=secret,id=', '--mount=type=ssh', '--from=0', '--from=-1', '--from=$X', '--chown=1:1', '--chmod=7777', '--chmod=u+x', '--link', '--parents', '--exclude=*', '--platform=$BUILDPLATFORM', '--network=none', '--security=insecure', '--interval=0s', '--retries=-1', '--start-period=1h', '--keep-git-dir', '--checksum=sha256:0', '# syntax=docker/dockerfile:1', '# escape=`', '# check=error=true', '\t', '\r', '\u0000', '\u00e9', '\u{1f600}', '\ufeff', ' AS ', ' as stage', '0', '-1', '65536', '99999999999999999999', '1e9', '/', '..', '../..', '*', '**', '?', '[a-', '!', '#', 'NONE', '[]', '[""]', 'https://127.0.0.1:1/x.tar', 'git@host:repo', 'http://[::1', '$BUILDPLATFORM', '$TARGETARCH', 'SIGKILL', '0:0', 'root:', ':', '::', 'CMD ["sh"]',
];

export function mutate(text: string, others: string[], rnd: () => number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
  let lines = text.split('\n');
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(rnd() * Math.max(1, lines.length));
    switch (Math.floor(rnd() * 12)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, lines[i] ?? '');
        break;
      case 2: {
        const j = Math.floor(rnd() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        break;
      }
      case 3: {
        const o = pick(others).split('\n');
        const at = Math.floor(rnd() * o.length);
        lines.splice(i, 0, ...o.slice(at, at + 1 + Math.floor(rnd() * 4)));
        break;
      }
      case 4:
        lines.splice(i, 0, `${pick(KEYWORDS)} ${pick(FRAGMENTS)}${pick(FRAGMENTS)}`);
        break;
      case 5:
      case 6: {
        const l = lines[i] ?? '';
        const at = Math.floor(rnd() * (l.length + 1));
        lines[i] = l.slice(0, at) + pick(FRAGMENTS) + l.slice(at);
        break;
      }
      case 7: {
        const l = lines[i] ?? '';
        const at = Math.floor(rnd() * (l.length + 1));
        lines[i] = l.slice(0, at) + l.slice(at + 1 + Math.floor(rnd() * 8));
        break;
      }
      case 8: {
        // a word replaced by a number or a variable
        const words = (lines[i] ?? '').split(' ');
        words[Math.floor(rnd() * words.length)] = pick(['0', '1', '-1', '$A', '${A}', '""', "''", '\\', '007']);
        lines[i] = words.join(' ');
        break;
      }
      case 9: {
        // a repeated line, up to 200 times (bounded growth)
        const l = lines[i] ?? '';
        lines.splice(i, 0, ...Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => l));
        break;
      }
      case 10:
        lines = lines.map((l) => (rnd() < 0.1 ? `${l} \\` : l)); // stray continuations
        break;
      case 11:
        lines.splice(i, 0, `ARG A=${pick(FRAGMENTS)}`, `ENV B=\${A}${pick(FRAGMENTS)}`);
        break;
    }
  }
  let out = lines.join(rnd() < 0.05 ? '\r\n' : '\n');
  if (rnd() < 0.05) out = out.slice(0, Math.floor(rnd() * out.length)); // truncated
  return out;
}
