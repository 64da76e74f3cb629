/** The plain printer's lines: BuildKit's shape, output lines split across chunks, transfers and the summary. */
import { describe, expect, test } from 'bun:test';
import { createPlainPrinter } from '../../src/progress/plain.ts';

describe('plain progress', () => {
  test('steps, output in chunks (a line split between two), transfers, the summary', () => {
    let out = '';
    let clock = 1000;
    const p = createPlainPrinter((s) => (out += s), () => clock);
    p.emit({ type: 'vertex', digest: 'a', name: '[1/2] FROM busybox', status: 'started', time: 1000, reason: 'no earlier build of this step' });
    p.emit({ type: 'bytes', digest: 'a', id: 'pull x', name: 'pulling sha256:0123456789ab', current: 1500, total: 3000, elapsed: 500, time: 1500 });
    p.emit({ type: 'bytes', digest: 'a', id: 'pull x', name: 'pulling sha256:0123456789ab', current: 3000, total: 3000, elapsed: 600, done: true, time: 1600 });
    p.emit({ type: 'vertex', digest: 'a', name: '[1/2] FROM busybox', status: 'completed', time: 2200 });
    p.emit({ type: 'vertex', digest: 'b', name: '[2/2] RUN make', status: 'started', time: 2200 });
    p.emit({ type: 'log', digest: 'b', stream: 'stdout', data: 'one\ntw', time: 2300 });
    p.emit({ type: 'log', digest: 'b', stream: 'stdout', data: 'o\nthree\n', time: 2400 });
    p.emit({ type: 'log', digest: 'b', stream: 'stderr', data: 'no newline at the end', time: 2500 });
    p.emit({ type: 'vertex', digest: 'b', name: '[2/2] RUN make', status: 'completed', time: 3400 });
    clock = 3500;
    p.emit({ type: 'bytes', digest: '', id: 'export oci out.tar', name: 'writing oci out.tar', current: 2_500_000, elapsed: 100, done: true, time: 3500 });
    p.emit({ type: 'warning', message: 'a warning', time: 3500 });
    p.emit({ type: 'summary', seconds: 2.5, ran: 2, cached: 0, warnings: 1, outputs: [{ kind: 'oci', dest: 'out.tar', digest: 'sha256:abc' }], time: 3500 });
    p.close();
    expect(out.split('\n')).toEqual([
      '#1 [1/2] FROM busybox',
      '#1 cache miss: no earlier build of this step',
      '#1 pulling sha256:0123456789ab 1.5kB / 3.0kB 3.0kB/s',
      '#1 pulling sha256:0123456789ab 3.0kB done',
      '#1 DONE 1.2s',
      '#2 [2/2] RUN make',
      '#2 0.100 one',
      '#2 0.200 two',
      '#2 0.200 three',
      '#2 1.200 no newline at the end',
      '#2 DONE 1.2s',
      '#3 writing oci out.tar',
      '#3 2.5MB done',
      '#3 DONE 0.1s',
      'WARNING: a warning',
      'done in 2.50s: 2 steps run, 0 cached, 1 warning',
      '  oci out.tar sha256:abc',
      '',
    ]);
  });
});
