/**
 * mount(2), umount2(2), the l*xattr(2) calls and openat2(2), directly through the runtime's FFI (bun:ffi, Deno.dlopen):
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
  /**
   * openat2(2) through syscall(2) (glibc 2.36 has no wrapper): a new file descriptor, or
   * -errno (-ENOSYS on kernels before 5.6). The caller closes the descriptor.
   */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** open(2): a file descriptor (the kernel's own number, whatever the runtime's fs does), or -errno. */
  open(path: string, flags: number): number;
  /** close(2) of a descriptor from open or openat2. */
  close(fd: number): number;
}

/** openat2's `resolve` bits (linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
/** O_PATH and O_CLOEXEC: the same values on every Linux architecture kiln runs on (x86_64, arm64). */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

/** SYS_openat2: one number on every architecture (new syscalls share the table since Linux 5.1). */
const SYS_OPENAT2 = 437;

/** struct open_how { u64 flags; u64 mode; u64 resolve; } */
function openHow(flags: number, mode: number, resolve: number): Buffer {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return how;
}

export const MS_RDONLY = 1;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;

const LIBC = 'libc.so.6';
let loaded: Promise<Libc | undefined> | undefined;

const cstr = (s: string | null) => (s === null ? null : Buffer.from(`${s}\0`));

type Symbols = Record<string, (...a: unknown[]) => unknown>;

/**
 * A C string in a buffer reused from call to call: for the calls made once per file of a tree
 * (the l*xattr reads), where a fresh Buffer per call costs more than the syscall. Each scratch
 * serves one argument of one call at a time (FFI calls are synchronous).
 */
function scratchCstr(): (s: string) => Uint8Array {
  const enc = new TextEncoder();
  let buf = new Uint8Array(4096);
  return (s) => {
    if (s.length * 3 + 1 > buf.byteLength) buf = new Uint8Array(s.length * 3 + 1);
    const { written } = enc.encodeInto(s, buf);
    buf[written] = 0;
    return buf;
  };
}

/** The Libc calls over a runtime's raw symbols (both runtimes take buffers and BigInt u64s alike). */
function bind(sym: Symbols, errno: () => number): Libc {
  const n = (v: unknown) => Number(v);
  const pathArg = scratchCstr();
  const nameArg = scratchCstr();
  const fdOrErrno = (v: unknown) => (n(v) < 0 ? -errno() : n(v));
  return {
    mount: (source, target, fstype, flags, data) => n(sym.mount!(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data))),
    umount2: (target, flags) => n(sym.umount2!(cstr(target), flags)),
    llistxattr: (path, buf) => n(sym.llistxattr!(pathArg(path), buf, BigInt(buf.byteLength))),
    lgetxattr: (path, name, buf) => n(sym.lgetxattr!(pathArg(path), nameArg(name), buf, BigInt(buf.byteLength))),
    lsetxattr: (path, name, value, flags) => n(sym.lsetxattr!(cstr(path), cstr(name), value, BigInt(value.byteLength), flags)),
    openat2: (dirfd, path, flags, mode, resolve) => fdOrErrno(sym.syscall!(BigInt(SYS_OPENAT2), BigInt(dirfd), cstr(path), openHow(flags, mode, resolve), 24n)),
    open: (path, flags) => fdOrErrno(sym.open!(cstr(path), flags)),
    close: (fd) => n(sym.close!(fd)),
  };
}

async function loadBun(): Promise<Libc | undefined> {
  const ffi = (await import('bun:ffi')) as unknown as {
    dlopen(lib: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Symbols };
    read: { i32(ptr: unknown, offset: number): number };
  };
  const lib = ffi.dlopen(LIBC, {
    mount: { args: ['ptr', 'ptr', 'ptr', 'u64', 'ptr'], returns: 'i32' },
    umount2: { args: ['ptr', 'i32'], returns: 'i32' },
    llistxattr: { args: ['ptr', 'ptr', 'u64'], returns: 'i64' },
    lgetxattr: { args: ['ptr', 'ptr', 'ptr', 'u64'], returns: 'i64' },
    lsetxattr: { args: ['ptr', 'ptr', 'ptr', 'u64', 'i32'], returns: 'i32' },
    syscall: { args: ['i64', 'i64', 'ptr', 'ptr', 'u64'], returns: 'i64' },
    open: { args: ['ptr', 'i32'], returns: 'i32' },
    close: { args: ['i32'], returns: 'i32' },
    __errno_location: { args: [], returns: 'ptr' },
  });
  return bind(lib.symbols, () => ffi.read.i32(lib.symbols.__errno_location!(), 0));
}

interface DenoFfi {
  dlopen(lib: string, defs: unknown): { symbols: Symbols };
  UnsafePointerView: new (ptr: unknown) => { getInt32(offset: number): number };
}

function loadDeno(deno: DenoFfi): Libc {
  const lib = deno.dlopen(LIBC, {
    mount: { parameters: ['buffer', 'buffer', 'buffer', 'u64', 'buffer'], result: 'i32' },
    umount2: { parameters: ['buffer', 'i32'], result: 'i32' },
    llistxattr: { parameters: ['buffer', 'buffer', 'u64'], result: 'i64' },
    lgetxattr: { parameters: ['buffer', 'buffer', 'buffer', 'u64'], result: 'i64' },
    lsetxattr: { parameters: ['buffer', 'buffer', 'buffer', 'u64', 'i32'], result: 'i32' },
    syscall: { parameters: ['i64', 'i64', 'buffer', 'buffer', 'u64'], result: 'i64' },
    open: { parameters: ['buffer', 'i32'], result: 'i32' },
    close: { parameters: ['i32'], result: 'i32' },
    __errno_location: { parameters: [], result: 'pointer' },
  });
  return bind(lib.symbols, () => new deno.UnsafePointerView(lib.symbols.__errno_location!()).getInt32(0));
}

/** The FFI bindings, loaded once; undefined when this runtime has no FFI or no glibc. */
export function libc(): Promise<Libc | undefined> {
  loaded ??= (async () => {
    if (process.platform !== 'linux' || process.env.KILN_NO_FFI) return undefined;
    try {
      const g = globalThis as { Bun?: unknown; Deno?: DenoFfi };
      if (g.Bun) return await loadBun();
      if (g.Deno) return loadDeno(g.Deno);
    } catch {
      // no FFI here (or no glibc): the tools will do
    }
    return undefined;
  })();
  return loaded;
}
