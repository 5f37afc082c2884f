/**
 * Which ledger session an OpenCode session's events belong to, and what this process counted for
 * each. A sub-agent runs in a child session of its own in OpenCode; its calls are recorded under
 * the root session, as Claude Code's sub-agents are, so one session contract covers all of them.
 * When `vm console spawn` started this OpenCode (VAULTMESH_SESSION_ID is set), the first root
 * session takes that id, so its events land on the contract spawn recorded.
 */
import type { Call } from './events.js';

export interface SessionRecord {
  /** The ledger's session id. */
  id: string;
  /** Events tried so far: the last `agent_seq` used. */
  seq: number;
  /** When OpenCode created the session in this process; unset for a session this process resumed. */
  createdAt?: Date;
  /** The `session_start` delivery, once one is under way: every later event waits for it. */
  start?: Promise<void>;
  toolCalls: number;
  commands: number;
  modified: Set<string>;
  /** Calls announced and allowed, by OpenCode call id, until their outcome is recorded. */
  calls: Map<string, Call>;
}

export class SessionBook {
  private readonly parents = new Map<string, string>();
  private readonly records = new Map<string, SessionRecord>();
  private claimedBy: string | undefined;

  constructor(private readonly spawnedId: string | undefined) {}

  /** `session.created`: a sub-agent's session joins its parent's record; a root one starts its own. */
  created(id: string, parentID: string | undefined, at: Date): void {
    if (parentID !== undefined) {
      this.parents.set(id, parentID);
      return;
    }
    this.record(id).createdAt ??= at;
  }

  isSubagent(id: string): boolean {
    return this.parents.has(id);
  }

  /** The record of the session's root, made on first sight. */
  record(id: string): SessionRecord {
    const root = this.rootOf(id);
    if (this.spawnedId !== undefined) this.claimedBy ??= root;
    const ledgerId = this.ledgerId(root);
    let record = this.records.get(ledgerId);
    if (record === undefined) {
      record = { id: ledgerId, seq: 0, toolCalls: 0, commands: 0, modified: new Set(), calls: new Map() };
      this.records.set(ledgerId, record);
    }
    return record;
  }

  /** The record of the session's root, if this process has recorded anything for it. */
  existing(id: string): SessionRecord | undefined {
    const record = this.records.get(this.ledgerId(this.rootOf(id)));
    return record?.start === undefined ? undefined : record;
  }

  forget(record: SessionRecord): void {
    this.records.delete(record.id);
  }

  private rootOf(id: string): string {
    let root = id;
    // OpenCode nests sub-agents a few levels at most; the bound only guards against a cycle.
    for (let depth = 0; depth < 64 && this.parents.has(root); depth++) root = this.parents.get(root)!;
    return root;
  }

  private ledgerId(root: string): string {
    return this.spawnedId !== undefined && this.claimedBy === root ? this.spawnedId : root;
  }
}
