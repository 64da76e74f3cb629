import { readFile } from 'node:fs/promises';
import { usageError, KilnError } from '../util/errors.ts';
import { many, parseKeyValues } from './parse-flags.ts';

/** Reads FILE, or stdin for '-'. */
async function readInput(file: string | undefined): Promise<string> {
  if (!file || file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8');
}

/** `kiln debug parse [-f FILE | -]`: the syntax tree as JSON, one object per instruction. */
export async function debugParse(file: string | undefined): Promise<void> {
  const { parse, toDebugJson } = await import('../frontend/dockerfile/parser/index.ts');
  const text = await readInput(file ?? 'Dockerfile');
  process.stdout.write(`${JSON.stringify(toDebugJson(parse(text)), null, 2)}\n`);
}

function envMap(env: unknown): Map<string, string> {
  return new Map(Object.entries(parseKeyValues(many(env), '--env', {})));
}

/** `kiln debug expand [--env K=V]... -- WORD`: the expansion of WORD (exit 1 on `${x:?}` errors). */
export async function debugExpand(words: string[], env: unknown, escape?: string): Promise<void> {
  if (words.length !== 1) throw usageError('kiln debug expand takes exactly one WORD', 'e.g. kiln debug expand --env A=1 -- \'${A:-x}\'');
  const { createLexer } = await import('../frontend/dockerfile/shell/index.ts');
  try {
    process.stdout.write(`${createLexer(escape ?? '\\').processWord(words[0]!, envMap(env))}\n`);
  } catch (err) {
    throw new KilnError((err as Error).message, { kind: 'input' });
  }
}

/** `kiln debug words [--env K=V]... -- TEXT`: the words TEXT splits into after expansion, as JSON. */
export async function debugWords(words: string[], env: unknown, escape?: string): Promise<void> {
  if (words.length !== 1) throw usageError('kiln debug words takes exactly one TEXT');
  const { createLexer } = await import('../frontend/dockerfile/shell/index.ts');
  try {
    process.stdout.write(`${JSON.stringify(createLexer(escape ?? '\\').processWords(words[0]!, envMap(env)))}\n`);
  } catch (err) {
    throw new KilnError((err as Error).message, { kind: 'input' });
  }
}

/** `kiln debug llb [build flags] CONTEXT`: the LLB definition the frontend makes (ops by digest), as JSON. */
export async function debugLlb(context: string | undefined, flags: Record<string, unknown>): Promise<void> {
  const { buildRequestFromFlags } = await import('./build-command.ts');
  const { runFrontend } = await import('./build.ts');
  const { registryClientFor } = await import('./registry-client.ts');
  const { createImageResolver } = await import('../source/image-resolver.ts');
  const { createPlainPrinter } = await import('../progress/plain.ts');
  const req = await buildRequestFromFlags(context, flags);
  const { removeAll } = await import('../util/fs.ts');
  const result = await runFrontend(req, createImageResolver(registryClientFor(req)), createPlainPrinter((s) => process.stderr.write(s))).finally(async () => {
    for (const d of req.tempDirs) await removeAll(d);
  });
  process.stdout.write(`${JSON.stringify({ definition: result.definition, config: result.config }, null, 2)}\n`);
}
