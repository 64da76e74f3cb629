import { makeVertex, type Output, type Vertex } from './vertex.ts';
import type { FileAction, FileActionBody, FileCopy, FileMkdir, FileMkfile, FileRm, FileSymlink, OpMetadata } from './types.ts';
import type { State } from './state.ts';

type Step = { body: FileActionBody; source?: State };

/**
 * An immutable chain of file actions, applied in order to one state by `State.file`.
 * `copy` reads from another state (its secondary input).
 */
export class FileChain {
  readonly #steps: readonly Step[];

  private constructor(steps: readonly Step[]) {
    this.#steps = steps;
  }

  static of(body: FileActionBody, source?: State): FileChain {
    return new FileChain([{ body, source }]);
  }

  copy(source: State, src: string, dest: string, opts: Omit<FileCopy, 'type' | 'src' | 'dest'> = {}): FileChain {
    return new FileChain([...this.#steps, { body: { type: 'copy', src, dest, ...opts }, source }]);
  }

  mkdir(path: string, mode: number, opts: Omit<FileMkdir, 'type' | 'path' | 'mode'> = {}): FileChain {
    return new FileChain([...this.#steps, { body: { type: 'mkdir', path, mode, ...opts } }]);
  }

  mkfile(path: string, mode: number, data: string | Uint8Array, opts: Omit<FileMkfile, 'type' | 'path' | 'mode' | 'data'> = {}): FileChain {
    return new FileChain([...this.#steps, { body: mkfileBody(path, mode, data, opts) }]);
  }

  rm(path: string, opts: Omit<FileRm, 'type' | 'path'> = {}): FileChain {
    return new FileChain([...this.#steps, { body: { type: 'rm', path, ...opts } }]);
  }

  symlink(oldpath: string, newpath: string, opts: Omit<FileSymlink, 'type' | 'oldpath' | 'newpath'> = {}): FileChain {
    return new FileChain([...this.#steps, { body: { type: 'symlink', oldpath, newpath, ...opts } }]);
  }

  /** Builds the file op vertex applying this chain on top of `base`. */
  toVertex(base: State, metadata: OpMetadata): Vertex {
    const inputs: Output[] = [];
    const indexOf = (s: State | undefined): number => {
      const o = s?.output;
      if (!o) return -1;
      const i = inputs.findIndex((x) => x.vertex === o.vertex && x.index === o.index);
      if (i >= 0) return i;
      inputs.push(o);
      return inputs.length - 1;
    };
    const baseIndex = indexOf(base);
    const pending: { body: FileActionBody; input: number | 'prev'; secondary: number }[] = this.#steps.map((s, i) => ({
      body: s.body,
      input: i === 0 ? baseIndex : 'prev',
      secondary: s.source ? indexOf(s.source) : -1,
    }));
    const n = inputs.length;
    const actions: FileAction[] = pending.map((p, i) => ({
      input: p.input === 'prev' ? n + i - 1 : p.input,
      secondaryInput: p.secondary,
      output: i === pending.length - 1 ? 0 : -1,
      action: p.body,
    }));
    return makeVertex({ type: 'file', actions }, inputs, base.getPlatform(), metadata);
  }
}

function mkfileBody(path: string, mode: number, data: string | Uint8Array, opts: Omit<FileMkfile, 'type' | 'path' | 'mode' | 'data'>): FileMkfile {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return { type: 'mkfile', path, mode, data: Buffer.from(bytes).toString('base64'), ...opts };
}

/** Entry points mirroring BuildKit's `llb.Copy`, `llb.Mkdir`, ...: each starts a chain. */
export const copy = (source: State, src: string, dest: string, opts: Omit<FileCopy, 'type' | 'src' | 'dest'> = {}) =>
  FileChain.of({ type: 'copy', src, dest, ...opts }, source);
export const mkdir = (path: string, mode: number, opts: Omit<FileMkdir, 'type' | 'path' | 'mode'> = {}) =>
  FileChain.of({ type: 'mkdir', path, mode, ...opts });
export const mkfile = (path: string, mode: number, data: string | Uint8Array, opts: Omit<FileMkfile, 'type' | 'path' | 'mode' | 'data'> = {}) =>
  FileChain.of(mkfileBody(path, mode, data, opts));
export const rm = (path: string, opts: Omit<FileRm, 'type' | 'path'> = {}) => FileChain.of({ type: 'rm', path, ...opts });
export const symlink = (oldpath: string, newpath: string, opts: Omit<FileSymlink, 'type' | 'oldpath' | 'newpath'> = {}) =>
  FileChain.of({ type: 'symlink', oldpath, newpath, ...opts });
