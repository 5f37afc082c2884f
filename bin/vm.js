#!/usr/bin/env node
// An agent runs `vm console hook` for every tool call: it loads only the hook, not the whole CLI.
if (process.argv[2] === 'console' && process.argv[3] === 'hook') {
  const { main } = await import('../dist/interfaces/hooks/main.js');
  process.exitCode = await main(process.argv.slice(4));
} else {
  const { main } = await import('../dist/interfaces/cli/main.js');
  process.exitCode = await main(process.argv);
}
