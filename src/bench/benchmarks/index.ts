/** Every benchmark, in the order a full run takes them (the shared data directory is made once). */
import type { Benchmark } from '../context.js';
import { appendGroup } from './append-group.js';
import { appendSingle } from './append-single.js';
import { coldStart } from './cold-start.js';
import { consoleHook } from './console-hook.js';
import { httpAppend } from './http-append.js';
import { inclusionProofs } from './inclusion-proof.js';
import { query } from './query.js';
import { treasuryBooks } from './treasury.js';
import { treeRoot } from './tree-root.js';
import { verify } from './verify.js';

export const BENCHMARKS: readonly Benchmark[] = [
  coldStart,
  appendSingle,
  appendGroup,
  treeRoot,
  inclusionProofs,
  verify,
  query,
  httpAppend,
  consoleHook,
  treasuryBooks,
];
