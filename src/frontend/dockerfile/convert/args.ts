import type { Platform } from '../../api.ts';
import { atLine } from './located.ts';
import type { ArgCommand } from '../instructions/index.ts';
import { formatPlatform } from './image.ts';
import type { Lexer } from './lexer.ts';

/** Build args with special meaning: given to RUN steps but kept out of history and cache keys. */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** The automatic platform ARGs (BuildKit's defaultArgs), overridable by --build-arg. */
export function defaultArgs(build: Platform, target: Platform, targetStage: string, overrides: Record<string, string>): Map<string, string> {
  const pairs: [string, string][] = [
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDOSVERSION', ''],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETOSVERSION', ''],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['TARGETSTAGE', targetStage || 'default'],
  ];
  return new Map(pairs.map(([k, v]) => [k, overrides[k] ?? v]));
}

/** Global ARGs (before the first FROM), with --build-arg values winning (BuildKit's buildMetaArgs). */
export function buildMetaArgs(args: Map<string, string>, lex: Lexer, metaArgs: ArgCommand[], buildArgs: Record<string, string>, file: string): Map<string, string> {
  const out = new Map(args);
  for (const cmd of metaArgs) {
    for (const kv of cmd.args) {
      let value: string | undefined;
      if (kv.key in buildArgs) value = buildArgs[kv.key];
      else if (kv.value !== undefined) value = atLine(file, cmd.location, () => lex.processWord(kv.value!, out));
      if (value !== undefined) out.set(kv.key, value);
    }
  }
  return out;
}

/** History text for RUN: `|N K=V ... args` when the stage declared ARGs (BuildKit's runCommandString). */
export function runCommandString(args: string[], declared: { key: string; value?: string }[], env: ReadonlyMap<string, string>): string {
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const a of declared) {
    const v = env.get(a.key) ?? a.value ?? '';
    if (!values.has(a.key)) order.push(a.key);
    values.set(a.key, v);
  }
  const prefix = order.length ? [`|${order.length}`, ...order.map((k) => `${k}=${values.get(k)}`)] : [];
  return [...prefix, ...args].join(' ');
}
