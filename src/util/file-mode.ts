/**
 * Symbolic file modes as chmod(1) reads them (`u+x`, `go-w`, `a=rX,u+w`), which COPY/ADD
 * `--chmod` accepts besides octal. `applyModeSpec` computes the new permission bits from
 * the current ones; `X` adds execute only to directories and files that have some x bit.
 */
export type ModeSpec = { who: number; op: '+' | '-' | '='; perm: string }[];

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

export function parseModeSpec(s: string): ModeSpec {
  const out: ModeSpec = [];
  for (const clause of s.split(',')) {
    const m = /^([ugoa]*)([+\-=])([rwxXst]*)$/.exec(clause);
    if (!m) throw new Error(`invalid chmod parameter: '${s}'`);
    const who = m[1] ? [...m[1]].reduce((acc, c) => acc | WHO[c]!, 0) : WHO.a!;
    out.push({ who, op: m[2] as '+' | '-' | '=', perm: m[3]! });
  }
  return out;
}

export function applyModeSpec(spec: ModeSpec, mode: number, isDir: boolean): number {
  let cur = mode & 0o7777;
  for (const c of spec) {
    let bits = 0;
    for (const p of c.perm) {
      if (p === 'r') bits |= 0o444;
      else if (p === 'w') bits |= 0o222;
      else if (p === 'x') bits |= 0o111;
      else if (p === 'X' && (isDir || cur & 0o111)) bits |= 0o111;
      else if (p === 's') bits |= 0o6000;
      else if (p === 't') bits |= 0o1000;
    }
    bits &= c.who;
    if (c.op === '+') cur |= bits;
    else if (c.op === '-') cur &= ~bits;
    else cur = (cur & ~(c.who & 0o7777)) | bits;
  }
  return cur;
}
