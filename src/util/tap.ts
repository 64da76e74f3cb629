import { Transform } from 'node:stream';

/** A pass-through stream that shows `see` every chunk on its way (to hash or count it). */
export function tap(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      see(chunk);
      cb(null, chunk);
    },
  });
}
