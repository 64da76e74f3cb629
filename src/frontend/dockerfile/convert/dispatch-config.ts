import { KilnError } from '../../api.ts';
import type {
  ArgCommand, CmdCommand, EntrypointCommand, EnvCommand, ExposeCommand, HealthcheckCommand, LabelCommand,
  MaintainerCommand, OnbuildCommand, ShellCommand, StopsignalCommand, UserCommand, VolumeCommand,
} from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, type DispatchOpt } from './dispatch-opt.ts';
import { commitToHistory, goQuoteList, setConfigEnv } from './image.ts';
import { keywordOf } from '../lint/index.ts';

/** Instructions that change only the image config (and the env of later steps). */

export function dispatchEnv(d: DispatchState, c: EnvCommand): void {
  let msg = 'ENV';
  for (const e of c.env) {
    msg += ` ${e.key}=${e.value}`;
    d.state = d.state.addEnv(e.key, e.value);
    setConfigEnv(d.image, e.key, e.value);
  }
  commitToHistory(d.image, msg, false, false);
}

export function dispatchLabel(d: DispatchState, c: LabelCommand): void {
  let msg = 'LABEL';
  d.image.config.Labels ??= {};
  for (const l of c.labels) {
    d.image.config.Labels[l.key] = l.value;
    msg += ` ${l.key}=${l.value}`;
  }
  commitToHistory(d.image, msg, false, false);
}

export function dispatchMaintainer(d: DispatchState, c: MaintainerCommand): void {
  d.image.author = c.maintainer;
  commitToHistory(d.image, `MAINTAINER ${c.maintainer}`, false, false);
}

/** The shell form prefix: the image's SHELL, else `/bin/sh -c`. */
export function withShell(d: DispatchState, args: string[]): string[] {
  const shell = d.image.config.Shell?.length ? [...d.image.config.Shell] : ['/bin/sh', '-c'];
  return [...shell, args.join(' ')];
}

/** JSONArgsRecommended and MultipleInstructionsDisallowed, for CMD, ENTRYPOINT and HEALTHCHECK. */
function checkOnce(d: DispatchState, c: CmdCommand | EntrypointCommand | HealthcheckCommand, opt: DispatchOpt): void {
  const prev = d.seen[c.kind];
  if (prev) opt.lint.run('MultipleInstructionsDisallowed', prev, `Multiple ${keywordOf(c)} instructions should not be used in the same stage because only the last one will be used`);
  d.seen[c.kind] = c.location;
  if (c.kind !== 'healthcheck' && c.prependShell && !d.image.config.Shell?.length) {
    opt.lint.run('JSONArgsRecommended', c.location, `JSON arguments recommended for ${keywordOf(c)} to prevent unintended behavior related to OS signals`);
  }
}

export function dispatchCmd(d: DispatchState, c: CmdCommand, opt: DispatchOpt): void {
  checkOnce(d, c, opt);
  const args = c.prependShell ? withShell(d, c.cmdLine) : [...c.cmdLine];
  d.image.config.Cmd = args;
  d.image.config.ArgsEscaped = true;
  d.cmdSet = true;
  commitToHistory(d.image, `CMD ${goQuoteList(args)}`, false, false);
}

export function dispatchEntrypoint(d: DispatchState, c: EntrypointCommand, opt: DispatchOpt): void {
  checkOnce(d, c, opt);
  const args = c.prependShell ? withShell(d, c.cmdLine) : [...c.cmdLine];
  d.image.config.Entrypoint = args;
  if (!d.cmdSet) d.image.config.Cmd = null;
  commitToHistory(d.image, `ENTRYPOINT ${goQuoteList(args)}`, false, false);
}

export function dispatchUser(d: DispatchState, c: UserCommand): void {
  d.state = d.state.user(c.user);
  d.image.config.User = c.user;
  commitToHistory(d.image, `USER ${c.user}`, false, false);
}

export function dispatchVolume(d: DispatchState, c: VolumeCommand): void {
  d.image.config.Volumes ??= {};
  for (const v of c.volumes) {
    if (v === '') throw new KilnError('VOLUME specified can not be an empty string', { kind: 'input' });
    d.image.config.Volumes[v] = {};
  }
  commitToHistory(d.image, `VOLUME [${c.volumes.join(' ')}]`, false, false);
}

export function dispatchStopsignal(d: DispatchState, c: StopsignalCommand): void {
  d.image.config.StopSignal = c.signal;
  commitToHistory(d.image, `STOPSIGNAL ${c.signal}`, false, false);
}

export function dispatchShell(d: DispatchState, c: ShellCommand): void {
  d.image.config.Shell = [...c.shell];
  commitToHistory(d.image, `SHELL [${c.shell.join(' ')}]`, false, false);
}

export function dispatchOnbuild(d: DispatchState, c: OnbuildCommand): void {
  d.image.config.OnBuild = [...(d.image.config.OnBuild ?? []), c.expression];
}

export function dispatchHealthcheck(d: DispatchState, c: HealthcheckCommand, opt: DispatchOpt): void {
  checkOnce(d, c, opt);
  const h = c.health;
  const hc: NonNullable<DispatchState['image']['config']['Healthcheck']> = { Test: [...h.test] };
  if (h.interval) hc.Interval = h.interval;
  if (h.timeout) hc.Timeout = h.timeout;
  if (h.startPeriod) hc.StartPeriod = h.startPeriod;
  if (h.startInterval) hc.StartInterval = h.startInterval;
  if (h.retries) hc.Retries = h.retries;
  d.image.config.Healthcheck = hc;
  const go = `{Test:[${hc.Test!.join(' ')}] Interval:${dur(h.interval)} Timeout:${dur(h.timeout)} StartPeriod:${dur(h.startPeriod)} StartInterval:${dur(h.startInterval)} Retries:${h.retries ?? 0}}`;
  commitToHistory(d.image, `HEALTHCHECK ${go}`, false, false);
}

/** Go's time.Duration String() for whole-unit values (enough for history text). */
function dur(ns: number | undefined): string {
  if (!ns) return '0s';
  const s = ns / 1e9;
  if (s < 1) return `${ns / 1e6}ms`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}

export function dispatchExpose(d: DispatchState, c: ExposeCommand, opt: DispatchOpt): void {
  const env = envOf(d);
  const ports: string[] = [];
  for (const p of c.ports) ports.push(...opt.lex.processWords(p, env));
  const specs: string[] = [];
  for (const p of ports) specs.push(...parsePort(p));
  d.image.config.ExposedPorts ??= {};
  for (const p of specs) d.image.config.ExposedPorts[p] = {};
  commitToHistory(d.image, `EXPOSE [${specs.join(' ')}]`, false, false);
}

function parsePort(raw: string): string[] {
  const [portPart, proto = 'tcp'] = raw.split('/', 2) as [string, string?];
  const port = portPart.includes(':') ? portPart.slice(portPart.lastIndexOf(':') + 1) : portPart;
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (!m) throw new KilnError(`invalid containerPort: ${port}`, { kind: 'input' });
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  // Ports are 16-bit (go-connections parses them with ParseUint(..., 16)).
  if (lo > 65535 || hi > 65535) throw new KilnError(`invalid containerPort: ${port}`, { kind: 'input' });
  if (hi < lo) throw new KilnError(`invalid port range: ${port}`, { kind: 'input' });
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

export function dispatchArg(d: DispatchState, c: ArgCommand, opt: DispatchOpt): void {
  const parts: string[] = [];
  for (const arg of c.args) {
    let value = arg.value;
    const hasValue = arg.key in opt.buildArgValues;
    if (!hasValue && value === undefined && opt.globalArgs.has(arg.key)) value = opt.globalArgs.get(arg.key);
    else if (hasValue) value = opt.buildArgValues[arg.key];
    else if (value !== undefined) value = opt.lex.processWord(value, envOf(d));
    if (value !== undefined) d.state = d.state.addEnv(arg.key, value);
    d.buildArgs.push({ key: arg.key, value });
    parts.push(value !== undefined ? `${arg.key}=${value}` : arg.key);
  }
  commitToHistory(d.image, `ARG ${parts.join(' ')}`, false, false);
}
