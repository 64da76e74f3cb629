import { usageError } from '../util/errors.ts';

export interface CommandInfo {
  name: string;
  description: string;
  flags: string[];
}

/** A shell completion script for `kiln`, generated from the commands and flags the CLI defines. */
export function completionScript(shell: string, commands: CommandInfo[]): string {
  const names = commands.map((c) => c.name).filter(Boolean);
  switch (shell) {
    case 'bash':
      return `# kiln bash completion: source <(kiln completion bash)
_kiln() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W "${names.join(' ')}" -- "$cur") ); return; fi
  case "$cmd" in
${commands.map((c) => `    ${c.name}) COMPREPLY=( $(compgen -W "${c.flags.join(' ')}" -- "$cur") ) ;;`).join('\n')}
  esac
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
}
complete -o filenames -F _kiln kiln
`;
    case 'zsh':
      return `#compdef kiln
# kiln zsh completion: source <(kiln completion zsh)
_kiln() {
  if (( CURRENT == 2 )); then
    local -a cmds=(${commands.map((c) => `'${c.name}:${c.description.replace(/'/g, '')}'`).join(' ')})
    _describe 'command' cmds
    return
  fi
  case $words[2] in
${commands.map((c) => `    ${c.name}) _arguments ${c.flags.map((f) => `'${f}[]'`).join(' ')} '*:file:_files' ;;`).join('\n')}
  esac
}
compdef _kiln kiln
`;
    case 'fish':
      return `# kiln fish completion: kiln completion fish | source
complete -c kiln -f
${commands.map((c) => `complete -c kiln -n '__fish_use_subcommand' -a ${c.name} -d '${c.description.replace(/'/g, '')}'`).join('\n')}
${commands.flatMap((c) => c.flags.filter((f) => f.startsWith('--')).map((f) => `complete -c kiln -n '__fish_seen_subcommand_from ${c.name}' -l ${f.slice(2)}`)).join('\n')}
`;
    default:
      throw usageError(`unknown shell "${shell}"`, 'use bash, zsh or fish');
  }
}
