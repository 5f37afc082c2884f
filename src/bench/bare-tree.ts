/**
 * The "bare loop" baselines: RFC 6962 roots and line hashing written directly on node:crypto, with
 * no abstraction, no argument checks and no allocation beyond the digests themselves.
 */
import { hash } from 'node:crypto';

/** RFC 6962 root of `lines` by a streaming stack: leaf = H(0x00‖line), node = H(0x01‖left‖right). */
export function bareRfc6962Root(lines: readonly Buffer[]): Buffer {
  let longest = 0;
  for (const line of lines) longest = Math.max(longest, line.length);
  const leafInput = Buffer.alloc(1 + longest);
  const nodeInput = Buffer.alloc(65);
  nodeInput[0] = 0x01;
  const stack: Buffer[] = [];
  for (let size = 0; size < lines.length; size++) {
    const line = lines[size]!;
    line.copy(leafInput, 1);
    let node = hash('sha256', leafInput.subarray(0, 1 + line.length), 'buffer');
    for (let n = size; n % 2 === 1; n = (n - 1) / 2) {
      stack.pop()!.copy(nodeInput, 1);
      node.copy(nodeInput, 33);
      node = hash('sha256', nodeInput, 'buffer');
    }
    stack.push(node);
  }
  if (stack.length === 0) return hash('sha256', Buffer.alloc(0), 'buffer');
  let root = stack[stack.length - 1]!;
  for (let i = stack.length - 2; i >= 0; i--) {
    stack[i]!.copy(nodeInput, 1);
    root.copy(nodeInput, 33);
    root = hash('sha256', nodeInput, 'buffer');
  }
  return root;
}
