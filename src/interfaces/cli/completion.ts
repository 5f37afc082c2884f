/**
 * Shell completion scripts, generated from the command tree itself so that they never drift from
 * it: subcommands, their options, and scroll names and receipt types where those are expected.
 */
import type { Command } from 'commander';
import { VaultMeshError } from '../../core/errors.js';
import { SCROLLS } from '../../core/scrolls/index.js';

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

/** Commands whose first argument is a scroll; `emit` and `types` also take a receipt type. */
const SCROLL_FIRST = [
  'emit',
  'receipts',
  'root',
  'checkpoint',
  'proof',
  'verify',
  'consistency',
  'reindex',
  'types',
];

export function completionScript(program: Command, shell: string): string {
  if (shell !== 'bash' && shell !== 'zsh') {
    throw new VaultMeshError('INVALID_ARGUMENT', `no completion for shell "${shell}"`, {
      hint: `use one of: ${COMPLETION_SHELLS.join(', ')}`,
    });
  }
  const globals = program.options.map((o) => o.long).filter((o): o is string => o !== undefined);
  // Options followed by a value: their value is not a command or a scroll.
  const valued = [program, ...program.commands]
    .flatMap((c) => c.options)
    .filter((o) => o.required || o.optional)
    .flatMap((o) => [o.long, o.short])
    .filter((o): o is string => o !== undefined);
  const cases = program.commands
    .map((c) => {
      const options = [...c.options.map((o) => o.long), '--help'].filter((o) => o !== undefined).join(' ');
      return `    ${c.name()}) opts="${options} ${globals.join(' ')}" ;;`;
    })
    .join('\n');
  const types = SCROLLS.map((s) => `    ${s.name}) types="${s.types.map((t) => t.type).join(' ')}" ;;`).join(
    '\n',
  );
  const bash = `# vm completion for bash: eval "$(vm completion bash)"
_vm_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" scroll="" words=0 i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " ${[...new Set(valued)].join(' ')} " in *" \${COMP_WORDS[i-1]} "*) continue ;; esac
    case \${COMP_WORDS[i]} in
      -*) ;;
      *) words=$((words + 1))
         if [[ -z $cmd ]]; then cmd=\${COMP_WORDS[i]}; elif [[ -z $scroll ]]; then scroll=\${COMP_WORDS[i]}; fi ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${program.commands.map((c) => c.name()).join(' ')} ${globals.join(' ')}" -- "$cur"))
    return
  fi
  local opts="" types=""
  case $cmd in
${cases}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); return; fi
  case " ${SCROLL_FIRST.join(' ')} " in
    *" $cmd "*)
      if [[ -z $scroll ]]; then COMPREPLY=($(compgen -W "${SCROLLS.map((s) => s.name).join(' ')}" -- "$cur")); return; fi
      if [[ $cmd == emit && $words -eq 2 ]]; then
        case $scroll in
${types}
        esac
        COMPREPLY=($(compgen -W "$types" -- "$cur"))
        return
      fi ;;
  esac
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _vm_complete vm vaultmesh
`;
  return shell === 'bash'
    ? bash
    : `# vm completion for zsh: eval "$(vm completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
