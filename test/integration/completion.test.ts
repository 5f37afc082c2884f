import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { assertBuilt, vm } from '../helpers/vm.js';

assertBuilt();

/** What the bash completion offers after typing `words` (the last one being completed). */
function complete(script: string, words: string[]): string[] {
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_vm_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((w) => w !== '');
}

describe('vm completion', () => {
  const bash = vm(['completion', 'bash']);

  it('prints a bash script that completes commands, options, scrolls and receipt types', () => {
    expect(bash.status).toBe(0);
    expect(complete(bash.stdout, ['vm', 'em'])).toEqual(['emit']);
    expect(complete(bash.stdout, ['vm', 'emit', 'tr'])).toEqual(['treasury']);
    expect(complete(bash.stdout, ['vm', '--data', '/x', 'emit', 'treasury', 'treasury_c'])).toEqual([
      'treasury_credit',
    ]);
    expect(complete(bash.stdout, ['vm', 'receipts', 'treasury', '--w'])).toEqual(['--where']);
    expect(complete(bash.stdout, ['vm', '--format', 'json', 'verify', 'go'])).toEqual(['governance']);
  });

  it('wraps the same script for zsh and refuses other shells', () => {
    expect(vm(['completion', 'zsh']).stdout).toContain('bashcompinit');
    const fish = vm(['completion', 'fish']);
    expect(fish.status).toBe(2);
    expect(fish.stderr).toContain('error[INVALID_ARGUMENT]');
  });
});
