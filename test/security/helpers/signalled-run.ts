/**
 * dist/kiln run until a signal is sent to it: once its stderr matches `when` (or from the
 * start), after `delayMs`; optionally a second signal `againAfterMs` after the first. Reports
 * how the process ended and how long after the (first) signal.
 */
import { spawn } from 'node:child_process';
import { kilnBin } from '../../helpers/kiln.ts';

export interface SignalledRun {
  code: number | null;
  signalCode: string | null;
  /** Milliseconds from the first signal to the exit; -1 when no signal was sent. */
  afterSignalMs: number;
  stderr: string;
  pid: number;
}

export interface SignalPlan {
  root: string;
  sig: NodeJS.Signals;
  delayMs: number;
  when?: RegExp;
  againAfterMs?: number;
  env?: Record<string, string>;
}

export function runUntilSignalled(args: string[], p: SignalPlan): Promise<SignalledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(kilnBin, args, { env: { ...process.env, KILN_ROOT: p.root, NO_COLOR: '1', ...p.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sentAt = 0;
    let armed = false;
    const arm = () => {
      armed = true;
      setTimeout(() => {
        sentAt = performance.now();
        child.kill(p.sig);
        if (p.againAfterMs !== undefined) setTimeout(() => child.kill(p.sig), p.againAfterMs);
      }, p.delayMs);
    };
    if (!p.when) arm();
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!armed && p.when?.test(stderr)) arm();
    });
    child.on('error', reject);
    child.on('close', (code, signalCode) => resolve({ code, signalCode, afterSignalMs: sentAt ? performance.now() - sentAt : -1, stderr, pid: child.pid ?? 0 }));
  });
}
