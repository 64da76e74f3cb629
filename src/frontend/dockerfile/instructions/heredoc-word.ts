/**
 * Recognising a heredoc word among ADD/COPY arguments (`<<EOF`, `<<-"EOF"`, `3<<EOF`), as
 * BuildKit's parser.ParseHeredoc does: the part after `<<` must lex to exactly one shell word;
 * `expand` is false when any part of that word was quoted.
 */

export interface HeredocWord {
  name: string;
  fileDescriptor: number;
  chomp: boolean;
  expand: boolean;
}

const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/;

/**
 * Split `s` into shell words (blanks separate unquoted text; `'...'`, `"..."` and `\x` quote),
 * returning the words with quotes removed and whether any quoting was used. Variables are left
 * as written (BuildKit lexes with no variables set and SkipUnsetEnv).
 */
function lexWords(s: string): { words: string[]; quoted: boolean } {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      quoted = true;
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error('unexpected end of statement while looking for matching single-quote');
      cur += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      quoted = true;
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        cur += s[j];
      }
      if (j >= s.length) throw new Error('unexpected end of statement while looking for matching double-quote');
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
    } else {
      cur += c;
    }
  }
  if (inWord) words.push(cur);
  return { words, quoted };
}

/** The heredoc a word introduces, or undefined when it is not a heredoc word. Never throws. */
export function parseHeredocWord(src: string): HeredocWord | undefined {
  const m = reHeredoc.exec(src);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  let lexed: { words: string[]; quoted: boolean };
  try {
    lexed = lexWords(rest);
  } catch {
    return undefined;
  }
  if (lexed.words.length !== 1) return undefined;
  return {
    name: lexed.words[0]!,
    fileDescriptor: m[1] === '' ? 0 : Number(m[1]),
    chomp: m[2] === '-',
    expand: !lexed.quoted,
  };
}

/** BuildKit's ChompHeredocContent: strip leading tabs from every line. */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}
