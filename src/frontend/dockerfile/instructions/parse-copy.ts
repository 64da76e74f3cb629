/**
 * Parsers for ADD and COPY (BuildKit's parse.go parseAdd/parseCopy/parseSourcesAndDest):
 * flags, then sources split into paths and heredoc contents. Plain Errors, BuildKit's wording.
 */

import type { AddCommand, CopyCommand, Heredoc } from './types.ts';
import { chompHeredocContent, parseHeredocWord } from './heredoc-word.ts';
import { base, errNoDestinationArgument, type ParseRequest } from './request.ts';

function sourcesAndDest(req: ParseRequest, command: string) {
  const srcs = req.args.slice(0, -1);
  const dest = req.args[req.args.length - 1]!;
  if (parseHeredocWord(dest)) throw new Error(`${command} cannot accept a heredoc as a destination`);
  const byName = new Map(req.node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const sourceContents: Heredoc[] = [];
  for (const src of srcs) {
    const word = parseHeredocWord(src);
    if (!word) {
      sources.push(src);
      continue;
    }
    let content = byName.get(word.name)?.content ?? '';
    if (word.chomp) content = chompHeredocContent(content);
    sourceContents.push({ ...word, content });
  }
  return { sources, dest, sourceContents };
}

function optional(v: string): string | undefined {
  return v === '' ? undefined : v;
}

function withOptionals<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}

export function parseAdd(req: ParseRequest): AddCommand {
  if (req.args.length < 2) throw errNoDestinationArgument('ADD');
  const f = req.flags;
  f.addString('chown');
  f.addString('chmod');
  f.addBool('link');
  f.addBool('keep-git-dir');
  f.addString('checksum');
  f.addBool('unpack');
  f.addStrings('exclude');
  f.parse();
  return withOptionals<AddCommand>({
    ...base(req, 'add'),
    ...sourcesAndDest(req, 'ADD'),
    chown: optional(f.value('chown')),
    chmod: optional(f.value('chmod')),
    link: f.bool('link'),
    parents: false,
    exclude: f.values('exclude'),
    checksum: optional(f.value('checksum')),
    keepGitDir: f.isUsed('keep-git-dir') ? f.bool('keep-git-dir') : undefined,
    unpack: f.isUsed('unpack') ? f.bool('unpack') : undefined,
  });
}

export function parseCopy(req: ParseRequest): CopyCommand {
  if (req.args.length < 2) throw errNoDestinationArgument('COPY');
  const f = req.flags;
  f.addString('chown');
  f.addString('from');
  f.addString('chmod');
  f.addBool('link');
  f.addStrings('exclude');
  f.addBool('parents');
  f.parse();
  return withOptionals<CopyCommand>({
    ...base(req, 'copy'),
    ...sourcesAndDest(req, 'COPY'),
    from: optional(f.value('from')),
    chown: optional(f.value('chown')),
    chmod: optional(f.value('chmod')),
    link: f.bool('link'),
    parents: f.bool('parents'),
    exclude: f.values('exclude'),
  });
}
