/**
 * mount(2), umount2(2) and the l*xattr(2) calls, directly through the runtime's FFI (bun:ffi, Deno.dlopen):
 * a mount costs well under a millisecond instead of the ~8 ms of spawning util-linux's
 * mount. `undefined` when no FFI is available (e.g. Node): callers spawn the tools instead.
 * Calls return 0 or -1, like the C functions; on -1 callers fall back to the tools, whose
 * messages say what went wrong.
 */
export interface Libc {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  /** llistxattr(2) into `buf`: the byte length of the NUL-separated names, or -1. */
  llistxattr(path: string, buf: Uint8Array): number;
  /** lgetxattr(2) into `buf`: the value's length, or -1. */
  lgetxattr(path: string, name: string, buf: Uint8Array): number;
  /** lsetxattr(2): 0 or -1. */
  lsetxattr(path: string, name: string, value: Uint8Array, flags: number): number;
}

export const MS_RDONLY = 1;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;

const LIBC = 'libc.so.6';
let loaded: Promise<Libc | undefined> | undefined;

const cstr = (s: string | null) => (s === null ? null : Buffer.from(`${s}\0`));

async function loadBun(): Promise<Libc | undefined> {
  const ffi = (await import('bun:ffi')) as unknown as {
    dlopen(lib: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, (...a: unknown[]) => number> };
  };
  const lib = ffi.dlopen(LIBC, {
    mount: { args: ['ptr', 'ptr', 'ptr', 'u64', 'ptr'], returns: 'i32' },
    umount2: { args: ['ptr', 'i32'], returns: 'i32' },
    llistxattr: { args: ['ptr', 'ptr', 'u64'], returns: 'i64' },
    lgetxattr: { args: ['ptr', 'ptr', 'ptr', 'u64'], returns: 'i64' },
    lsetxattr: { args: ['ptr', 'ptr', 'ptr', 'u64', 'i32'], returns: 'i32' },
  });
  const n = (v: unknown) => Number(v);
  return {
    mount: (source, target, fstype, flags, data) => lib.symbols.mount!(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data)),
    umount2: (target, flags) => lib.symbols.umount2!(cstr(target), flags),
    llistxattr: (path, buf) => n(lib.symbols.llistxattr!(cstr(path), buf, BigInt(buf.byteLength))),
    lgetxattr: (path, name, buf) => n(lib.symbols.lgetxattr!(cstr(path), cstr(name), buf, BigInt(buf.byteLength))),
    lsetxattr: (path, name, value, flags) => n(lib.symbols.lsetxattr!(cstr(path), cstr(name), value, BigInt(value.byteLength), flags)),
  };
}

function loadDeno(deno: { dlopen(lib: string, defs: unknown): { symbols: Record<string, (...a: unknown[]) => number> } }): Libc {
  const lib = deno.dlopen(LIBC, {
    mount: { parameters: ['buffer', 'buffer', 'buffer', 'u64', 'buffer'], result: 'i32' },
    umount2: { parameters: ['buffer', 'i32'], result: 'i32' },
    llistxattr: { parameters: ['buffer', 'buffer', 'u64'], result: 'i64' },
    lgetxattr: { parameters: ['buffer', 'buffer', 'buffer', 'u64'], result: 'i64' },
    lsetxattr: { parameters: ['buffer', 'buffer', 'buffer', 'u64', 'i32'], result: 'i32' },
  });
  const n = (v: unknown) => Number(v);
  return {
    mount: (source, target, fstype, flags, data) => lib.symbols.mount!(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data)),
    umount2: (target, flags) => lib.symbols.umount2!(cstr(target), flags),
    llistxattr: (path, buf) => n(lib.symbols.llistxattr!(cstr(path), buf, BigInt(buf.byteLength))),
    lgetxattr: (path, name, buf) => n(lib.symbols.lgetxattr!(cstr(path), cstr(name), buf, BigInt(buf.byteLength))),
    lsetxattr: (path, name, value, flags) => n(lib.symbols.lsetxattr!(cstr(path), cstr(name), value, BigInt(value.byteLength), flags)),
  };
}

/** The FFI bindings, loaded once; undefined when this runtime has no FFI or no glibc. */
export function libc(): Promise<Libc | undefined> {
  loaded ??= (async () => {
    if (process.platform !== 'linux' || process.env.KILN_NO_FFI) return undefined;
    try {
      const g = globalThis as { Bun?: unknown; Deno?: Parameters<typeof loadDeno>[0] };
      if (g.Bun) return await loadBun();
      if (g.Deno) return loadDeno(g.Deno);
    } catch {
      // no FFI here (or no glibc): the tools will do
    }
    return undefined;
  })();
  return loaded;
}
