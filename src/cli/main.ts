#!/usr/bin/env bun
import { cac } from 'cac';
import { KilnError, exitCodeOf, usageError } from '../util/errors.ts';
import { version, commit } from './version.ts';
import { formatError } from './print-error.ts';

/**
 * kiln's command line: a thin layer that turns flags into requests and calls the API.
 * Heavy modules load lazily, so `kiln version` starts fast.
 */
const cli = cac('kiln');

cli
  .command('build [context]', 'Build an image from a Dockerfile (docker/buildx and buildctl flags)')
  .option('-f, --file <path>', 'Name of the Dockerfile (default: CONTEXT/Dockerfile)')
  .option('--build-arg <k=v>', 'Set a build-time variable (repeatable)')
  .option('--label <k=v>', 'Set an image label (repeatable)')
  .option('-t, --tag <name>', 'Name the image (repeatable)')
  .option('-o, --output <spec>', 'Output: type=oci|docker|tar|local,dest=PATH or type=image,name=R (repeatable)')
  .option('--target <stage>', 'Build this stage')
  .option('--platform <list>', 'Target platform(s), e.g. linux/amd64')
  .option('--progress <mode>', 'auto, plain, tty, rawjson, quiet or none (default: auto)')
  .option('-q, --quiet', 'No progress output; print the image ID on success (as --progress quiet)')
  .option('--network <mode>', 'Network for RUN steps: default (host), host or none')
  .option('--check', 'Run only the build checks (lint rules) and report them')
  .option('--call <request>', 'Ask the frontend instead of building: targets, outline, check (add ,format=json)')
  .option('--no-cache', 'Do not use the cache')
  .option('--cache-from <spec>', 'Import build cache: type=registry,ref=REF | type=local,src=DIR | REF (repeatable)')
  .option('--cache-to <spec>', 'Export build cache: type=registry,ref=REF[,mode=max] | type=local,dest=DIR | type=inline (repeatable)')
  .option('--import-cache <spec>', 'Import build cache (buildctl style; as --cache-from)')
  .option('--export-cache <spec>', 'Export build cache (buildctl style; as --cache-to)')
  .option('--pull', 'Always ask the registry for base images (not the local image store)')
  .option('--add-host <host:ip>', 'Add a line to /etc/hosts of RUN steps (repeatable)')
  .option('--nocache-filter <stages>', 'Do not use the cache for these stages (comma-separated)')
  .option('--secret <spec>', 'A secret for RUN --mount=type=secret: id=X,src=FILE | id=X,env=VAR (repeatable)')
  .option('--ssh <spec>', 'An SSH agent for RUN --mount=type=ssh: default | ID=SOCKET|KEYFILE[,KEYFILE] (repeatable)')
  .option('--allow <entitlement>', 'Grant network.host (RUN --network=host) or security.insecure (RUN --security=insecure) (repeatable)')
  .option('--ulimit <name=soft[:hard]>', 'A resource limit for RUN steps, e.g. nofile=1024:2048 (repeatable)')
  .option('--shm-size <size>', 'Size of /dev/shm in RUN steps, e.g. 128m (default 64m)')
  .option('--metadata-file <file>', 'Write the build result metadata (containerimage.digest, ...) as JSON')
  .option('--attest <spec>', 'Attach an attestation: type=provenance[,mode=min|max] (repeatable)')
  .option('--provenance <value>', 'Provenance attestation: true (mode=min), mode=max, or false')
  .option('--push', 'Push the image (shorthand for -o type=registry, with the -t names)')
  .option('--load', 'Load the image into docker (docker load; needs the docker CLI)')
  .option('--iidfile <file>', 'Write the image ID to this file')
  .option('--runtime <name>', 'OCI runtime: runc (default) or crun')
  .option('--frontend <name>', 'Frontend (buildctl style): dockerfile.v0')
  .option('--build-context <name=value>', 'A named context: NAME=DIR|docker-image://REF|oci-layout://DIR[:TAG]|GIT_URL|https://URL (repeatable)')
  .option('--local <name=dir>', 'A named local directory (buildctl style: context=., dockerfile=.)')
  .option('--oci-layout <name=dir>', 'An OCI layout that oci-layout://NAME contexts name (buildctl style)')
  .option('--opt <k=v>', 'A frontend option (buildctl style), e.g. build-arg:K=V, target=T')
  .option('--max-parallelism <n>', 'RUN steps at once (default: no limit, as BuildKit; or the config file)')
  .option('--root <dir>', 'State directory (default: $KILN_ROOT, the config file, or /var/lib/kiln)')
  .option('--config <file>', 'Config file (default: $KILN_CONFIG or /etc/kiln/kiln.toml)')
  .example('kiln build -t app -o type=oci,dest=app.tar .')
  .action(async (context: string | undefined, flags: Record<string, unknown>) => {
    // The worker threads boot while the build modules load (one hashes the context first).
    (await import('../solver/worker-pool.ts')).prestartWorkers();
    const { runBuildCommand } = await import('./run-build.ts');
    await runBuildCommand(context === STDIN_ARG ? '-' : context, flags);
  });

cli
  .command('debug <what> [...args]', 'Inspect how kiln reads a build: parse, expand, words, llb')
  .option('-f, --file <path>', 'parse/llb: the Dockerfile (- for stdin)')
  .option('--env <k=v>', 'expand/words: a variable (repeatable)')
  .option('--escape <char>', 'expand/words: the escape character', { default: '\\' })
  .option('--build-arg <k=v>', 'llb: a build arg (repeatable)')
  .option('--target <stage>', 'llb: the target stage')
  .option('--platform <list>', 'llb: target platform')
  .option('--local <name=dir>', 'llb: a named local directory')
  .option('--opt <k=v>', 'llb: a frontend option')
  .example("kiln debug parse -f Dockerfile")
  .example("kiln debug expand --env A=1 -- '${A:-x}'")
  .action(async (what: string, args: string[], flags: Record<string, unknown>) => {
    const d = await import('./debug.ts');
    const rest = [...args, ...((flags['--'] as string[] | undefined) ?? [])];
    if (what === 'parse') return d.debugParse(flags.file as string | undefined);
    if (what === 'expand') return d.debugExpand(rest, flags.env, flags.escape as string);
    if (what === 'words') return d.debugWords(rest, flags.env, flags.escape as string);
    if (what === 'llb') return d.debugLlb(rest[0], flags);
    throw usageError(`unknown debug command "${what}"`, 'use parse, expand, words or llb');
  });

cli
  .command('du', 'Show the disk usage of the state dir (layers, blobs, cache mounts)')
  .option('--verbose', 'List every record: size, sharing, last use')
  .option('--root <dir>', 'State directory')
  .option('--config <file>', 'Config file (default: $KILN_CONFIG or /etc/kiln/kiln.toml)')
  .action(async (flags: { root?: string; verbose?: boolean }) => (await import('./store-commands.ts')).runDu(flags));

cli
  .command('prune', 'Remove build cache and everything no build can use any more')
  .option('--all', 'Remove all build cache')
  .option('--filter <until=DURATION>', 'Remove cache not used for DURATION (e.g. until=24h)')
  .option('--keep-storage <size>', 'Keep at most SIZE of the most recently used cache (e.g. 10GB)')
  .option('-f, --force', 'Do not ask (kiln never asks; accepted for docker compatibility)')
  .option('--root <dir>', 'State directory')
  .option('--config <file>', 'Config file (default: $KILN_CONFIG or /etc/kiln/kiln.toml)')
  .action(async (flags: Record<string, unknown>) => (await import('./store-commands.ts')).runPrune(flags as never));

cli
  .command('image [action] [...args]', 'The local image store: load, ls, rm, tag, save (for air-gapped builds)')
  .option('-i, --input <file>', 'load: the archive to read (- for stdin)')
  .option('-o, --output <file>', 'save: the archive to write (- for stdout)')
  .option('--root <dir>', 'State directory')
  .option('--config <file>', 'Config file (default: $KILN_CONFIG or /etc/kiln/kiln.toml)')
  .example('kiln image load base.tar && kiln image ls')
  .action(async (action: string | undefined, args: string[], flags: Record<string, unknown>) => (await import('./image-commands.ts')).runImageCommand(action, args.map((a) => (a === STDIN_ARG ? '-' : a)), flags as never));

cli
  .command('login [server]', 'Log in to a registry (credentials stored as docker stores them)')
  .option('-u, --username <user>', 'User name')
  .option('-p, --password <password>', 'Password (prefer --password-stdin)')
  .option('--password-stdin', 'Read the password from stdin')
  .action(async (server: string | undefined, flags: Record<string, unknown>) => (await import('./login.ts')).runLogin(server, flags as never));

cli
  .command('frontend <action> [dir]', 'Frontend plugins: `kiln frontend init DIR` scaffolds a TypeScript frontend')
  .action(async (action: string, dir: string | undefined) => {
    if (action !== 'init') throw usageError(`unknown frontend action "${action}"`, 'kiln frontend init DIR');
    await (await import('./frontend-init.ts')).runFrontendInit(dir);
  });
cli.command('logout [server]', 'Log out from a registry').action(async (server: string | undefined) => (await import('./login.ts')).runLogout(server));

cli
  .command('completion <shell>', 'Print a completion script: bash, zsh or fish')
  .example('source <(kiln completion bash)')
  .action(async (shell: string) => {
    const { completionScript } = await import('./completion.ts');
    const commands = cli.commands.map((c) => ({
      name: c.name,
      description: c.description,
      flags: [...c.options.flatMap((o) => o.rawName.split(/[ ,]+/).filter((f) => f.startsWith('-')).map((f) => (f === '--nocache-filter' ? '--no-cache-filter' : f))), '--help'],
    }));
    process.stdout.write(completionScript(shell, commands));
  });

cli.command('version', 'Show the version').action(() => {
  process.stdout.write(`kiln ${version} (${commit})\n`);
});

cli
  .command('doctor', 'Check that this machine can run builds')
  .option('--root <dir>', 'State directory to check')
  .option('--store', 'Also check the state dir: every record against its files, every blob against its digest')
  .option('--config <file>', 'Config file (default: $KILN_CONFIG or /etc/kiln/kiln.toml)')
  .option('--enable-emulation', 'Register the installed QEMU emulators (qemu-user-static) with binfmt_misc, so RUN works for their platforms')
  .action(async (flags: { root?: string; store?: boolean; config?: string; enableEmulation?: boolean }) => {
    const { runDoctor } = await import('./doctor.ts');
    process.exitCode = await runDoctor(flags.root, { store: flags.store, config: flags.config, enableEmulation: flags.enableEmulation });
  });

// cac shows a negated flag's implied default and our spelling of --no-cache-filter: tidy both.
cli.help((sections) =>
  sections.map((s) => ({
    ...s,
    body: s.body.replace('--nocache-filter <stages> ', '--no-cache-filter <stages>').replace(/(Do not use the cache) \(default: true\)/, '$1'),
  })),
);
cli.version(version);

/** What a positional `-` becomes for cac, which would drop it; commands read it back as `-`. */
const STDIN_ARG = '\u0000stdin';

/** Flags whose value may be `-` (stdin or stdout). */
const DASH_VALUE_FLAGS = new Set(['-f', '--file', '-o', '--output', '-i', '--input']);

/** `-f -` and `-o -` mean stdin/stdout; cac would read a lone `-` as a missing value. */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // cac would read --no-cache-filter as the negation of a "cache-filter" flag.
    if (a === '--no-cache-filter' || a.startsWith('--no-cache-filter=')) {
      out.push(a.replace('--no-cache-filter', '--nocache-filter'));
      continue;
    }
    if (DASH_VALUE_FLAGS.has(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a === '-' ? STDIN_ARG : tagNumber(a)); // a lone `-` (the context on stdin) is no flag
  }
  return out;
}

/**
 * cac (mri) turns every value that reads as a number into one: `--target 1` became the
 * number 1, `--label ''` became 0, `-t 007` became 7. kiln's values are strings: a value mri
 * would convert is tagged before parsing (`--flag=VALUE` too) and untagged after it.
 */
const NUM_TAG = '\u0000num:';

function tagNumber(a: string): string {
  const looksNumeric = (v: string) => Number(v) * 0 === 0;
  if (a.startsWith('--') && a.includes('=')) {
    const i = a.indexOf('=');
    return looksNumeric(a.slice(i + 1)) ? `${a.slice(0, i + 1)}${NUM_TAG}${a.slice(i + 1)}` : a;
  }
  return !a.startsWith('-') && looksNumeric(a) ? `${NUM_TAG}${a}` : a;
}

/** Removes the tags of tagNumber from parsed values, in place. */
function untagNumbers(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(NUM_TAG) ? v.slice(NUM_TAG.length) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = untagNumbers(v[i]);
    return v;
  }
  if (v && typeof v === 'object') for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = untagNumbers((v as Record<string, unknown>)[k]);
  return v;
}

// `kiln du | head`: a closed pipe is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(): Promise<void> {
  try {
    const parsed = cli.parse(joinDashValues(process.argv), { run: false });
    untagNumbers(cli.args);
    untagNumbers(cli.options);
    if (!cli.matchedCommand && !parsed.options.help && !parsed.options.version) {
      if (parsed.args.length) {
        const { nearest } = await import('./unknown-option.ts');
        const near = nearest(String(parsed.args[0]), cli.commands.map((c) => c.name));
        throw usageError(`unknown command "${parsed.args[0]}"${near ? ` (did you mean ${near}?)` : ''}`, 'run `kiln --help` for the list of commands');
      }
      cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
  } catch (err) {
    const e = err as Error;
    // cac reports unknown options and missing values with plain Errors named CACError.
    if (e?.name === 'CACError') {
      const { describeUnknownOption } = await import('./unknown-option.ts');
      const known = (cli.matchedCommand ?? cli.globalCommand).options.flatMap((o) => o.names.map((n) => n.replace(/([A-Z])/g, '-$1').toLowerCase()));
      const message = describeUnknownOption(e.message, process.argv.slice(2), known) ?? e.message;
      process.stderr.write(formatError(usageError(message, 'run `kiln <command> --help` for the flags')));
      process.exitCode = 2;
      return;
    }
    const { isDiskFull, diskFullError } = await import('../store/reserve.ts');
    const shown = !(err instanceof KilnError) && isDiskFull(err) ? diskFullError('the state dir', err) : err;
    process.stderr.write(formatError(shown, (err as { sources?: Record<string, string> }).sources));
    process.exitCode = exitCodeOf(shown);
  }
}

void main();
