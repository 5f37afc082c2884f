/**
 * The query index: type, time, tags and body fields of every receipt, in SQLite. It is derived:
 * each query first indexes the lines the scroll gained since the last one, and the whole file is
 * rebuilt from the JSONL by `vm reindex`. Results are read back from the JSONL, the truth.
 */
import Database from 'better-sqlite3';
import { VaultMeshError } from '../core/errors.js';
import type { ScrollLog } from './scroll-log.js';

export interface WhereClause {
  /** Dotted path into the body, e.g. `account` or `compliance_flags.ambiguous_requirements`. */
  path: string;
  /** Matches the field when it holds this JSON value, or this text (so `amount=1.50` finds "1.50"). */
  value: string | number | boolean | null;
  text: string;
  /** Match an array field that holds the value among its elements, instead of the field itself. */
  contains?: boolean;
}

export interface ReceiptQuery {
  types?: readonly string[];
  /** Inclusive lower bound on `ts` (ISO 8601). */
  from?: string;
  /** Exclusive upper bound on `ts` (ISO 8601). */
  to?: string;
  /** Only receipts of this session (the envelope's `session_id`). */
  session?: string;
  /** Every tag must be present. */
  tags?: readonly string[];
  where?: readonly WhereClause[];
  /** Any of these body fields matches the pattern: case-insensitive, `*` for any run of characters. */
  search?: { fields: readonly string[]; pattern: string };
  /** Only receipts with a seq above this (paging forward). */
  afterSeq?: number;
  /** Only receipts with a seq below this (paging newest first). */
  beforeSeq?: number;
  limit: number;
  /** Newest first. */
  reverse?: boolean;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY, scroll TEXT NOT NULL, seq INTEGER NOT NULL,
    type TEXT NOT NULL, ts TEXT NOT NULL, body TEXT NOT NULL);
  CREATE UNIQUE INDEX IF NOT EXISTS receipts_seq ON receipts (scroll, seq);
  CREATE INDEX IF NOT EXISTS receipts_type_ts ON receipts (scroll, type, ts);
  CREATE INDEX IF NOT EXISTS receipts_ts ON receipts (scroll, ts);
  CREATE TABLE IF NOT EXISTS tags (scroll TEXT NOT NULL, tag TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (scroll, tag, seq)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sessions (scroll TEXT NOT NULL, session_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (scroll, session_id, seq)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS indexed (scroll TEXT PRIMARY KEY, size INTEGER NOT NULL, last_leaf BLOB);
`;
/** Bumped whenever SCHEMA changes: an index of another version is dropped and rebuilt from the JSONL. */
const SCHEMA_VERSION = 2;
const TABLES = ['receipts', 'tags', 'sessions', 'indexed'];

const BATCH = 10_000;
const PATH = Symbol('path');

/** SQL matching a JSON value of the same JSON type only (so `true` does not match the number 1). */
function typedMatch(value: WhereClause['value']): [string, ...unknown[]] {
  if (value === null) return [`json_type(body, ?) = 'null'`, PATH];
  if (typeof value === 'boolean') return [`json_type(body, ?) = '${value ? 'true' : 'false'}'`, PATH];
  if (typeof value === 'number') {
    return [`(json_type(body, ?) IN ('integer', 'real') AND json_extract(body, ?) = ?)`, PATH, PATH, value];
  }
  return ['0']; // a string is matched by the text clause alone
}

export class QueryIndex {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 15000');
      this.db
        .transaction(() => {
          if (this.db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
            for (const table of TABLES) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
            this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
          }
          this.db.exec(SCHEMA);
        })
        .immediate();
    } catch (cause) {
      throw new VaultMeshError(
        'IO_ERROR',
        `cannot open the query index ${path}: ${(cause as Error).message}`,
        {
          cause,
          hint: 'the index is derived: delete it and run vm reindex',
        },
      );
    }
  }

  close(): void {
    this.db.close();
  }

  reset(scroll: string): void {
    this.db.transaction(() => {
      for (const table of TABLES) this.db.prepare(`DELETE FROM ${table} WHERE scroll = ?`).run(scroll);
    })();
  }

  /** Brings the index of one scroll up to the lines its sidecar covers. */
  sync(log: ScrollLog): void {
    const scroll = log.scroll.name;
    const state = this.db.prepare('SELECT size, last_leaf FROM indexed WHERE scroll = ?');
    const current = () => state.get(scroll) as { size: number; last_leaf: Buffer | null } | undefined;
    const known = current();
    if (known !== undefined && known.size === log.size && this.sameLastLeaf(log, known)) return;
    const insert = this.db.prepare(
      'INSERT INTO receipts (scroll, seq, type, ts, body) VALUES (?, ?, ?, ?, ?)',
    );
    const insertTag = this.db.prepare('INSERT OR IGNORE INTO tags (scroll, tag, seq) VALUES (?, ?, ?)');
    const insertSession = this.db.prepare(
      'INSERT OR IGNORE INTO sessions (scroll, session_id, seq) VALUES (?, ?, ?)',
    );
    const record = this.db.prepare(
      'INSERT INTO indexed (scroll, size, last_leaf) VALUES (?, ?, ?) ON CONFLICT (scroll) DO UPDATE SET size = excluded.size, last_leaf = excluded.last_leaf',
    );
    const step = this.db.transaction(() => {
      let state = current();
      if (state !== undefined && (state.size > log.size || !this.sameLastLeaf(log, state))) {
        // The scroll was rebuilt or rewritten under us: start this scroll's index over.
        this.db.prepare('DELETE FROM receipts WHERE scroll = ?').run(scroll);
        this.db.prepare('DELETE FROM tags WHERE scroll = ?').run(scroll);
        this.db.prepare('DELETE FROM sessions WHERE scroll = ?').run(scroll);
        state = undefined;
      }
      const from = state?.size ?? 0;
      const to = Math.min(log.size, from + BATCH);
      for (const { seq, line } of log.readLines(from, to)) {
        const receipt = JSON.parse(line) as {
          type: string;
          ts: string;
          tags: string[];
          body: unknown;
          session_id?: string;
        };
        insert.run(scroll, seq, receipt.type, receipt.ts, JSON.stringify(receipt.body));
        for (const tag of receipt.tags) insertTag.run(scroll, tag, seq);
        if (receipt.session_id !== undefined) insertSession.run(scroll, receipt.session_id, seq);
      }
      record.run(scroll, to, to === 0 ? null : Buffer.from(log.tree.readNode(0, to - 1)));
      return to;
    });
    while (step.immediate() < log.size);
  }

  /** Seqs of the receipts that match, in seq order (or reverse), at most `limit`. */
  query(log: ScrollLog, q: ReceiptQuery): number[] {
    this.sync(log);
    const clauses = ['scroll = ?'];
    const params: unknown[] = [log.scroll.name];
    if (q.types !== undefined && q.types.length > 0) {
      clauses.push(`type IN (${q.types.map(() => '?').join(', ')})`);
      params.push(...q.types);
    }
    if (q.afterSeq !== undefined) {
      clauses.push('seq > ?');
      params.push(q.afterSeq);
    }
    if (q.beforeSeq !== undefined) {
      clauses.push('seq < ?');
      params.push(q.beforeSeq);
    }
    if (q.from !== undefined) {
      clauses.push('ts >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      clauses.push('ts < ?');
      params.push(q.to);
    }
    if (q.session !== undefined) {
      clauses.push('seq IN (SELECT seq FROM sessions WHERE scroll = ? AND session_id = ?)');
      params.push(log.scroll.name, q.session);
    }
    for (const tag of q.tags ?? []) {
      clauses.push('seq IN (SELECT seq FROM tags WHERE scroll = ? AND tag = ?)');
      params.push(log.scroll.name, tag);
    }
    for (const w of q.where ?? []) {
      const path = `$.${w.path}`;
      if (w.contains === true) {
        clauses.push(`EXISTS (SELECT 1 FROM json_each(body, ?) AS e WHERE e.value = ? OR e.value = ?)`);
        params.push(path, w.value, w.text);
        continue;
      }
      const [typed, ...typedParams] = typedMatch(w.value);
      // A value also matches the same text, so `amount=1.50` finds the decimal string "1.50".
      clauses.push(`(${typed} OR (json_type(body, ?) = 'text' AND json_extract(body, ?) = ?))`);
      params.push(...typedParams.map((p) => (p === PATH ? path : p)), path, path, w.text);
    }
    if (q.search !== undefined && q.search.fields.length > 0) {
      const escaped = q.search.pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
      const like = q.search.pattern.includes('*') ? escaped : `%${escaped}%`;
      clauses.push(`(${q.search.fields.map(() => `json_extract(body, ?) LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      for (const field of q.search.fields) params.push(`$.${field}`, like);
    }
    const sql = `SELECT seq FROM receipts WHERE ${clauses.join(' AND ')} ORDER BY seq ${q.reverse ? 'DESC' : 'ASC'} LIMIT ?`;
    params.push(q.limit);
    return (
      this.db
        .prepare(sql)
        .pluck()
        .all(...params) as number[]
    ).map(Number);
  }

  /** The session ids with receipts in the window, in the order of their first receipt. */
  sessions(log: ScrollLog, window: { from?: string; to?: string }): string[] {
    this.sync(log);
    const clauses = ['s.scroll = ?'];
    const params: unknown[] = [log.scroll.name];
    if (window.from !== undefined) {
      clauses.push('r.ts >= ?');
      params.push(window.from);
    }
    if (window.to !== undefined) {
      clauses.push('r.ts < ?');
      params.push(window.to);
    }
    const sql = `SELECT s.session_id FROM sessions s JOIN receipts r ON r.scroll = s.scroll AND r.seq = s.seq
      WHERE ${clauses.join(' AND ')} GROUP BY s.session_id ORDER BY MIN(s.seq)`;
    return this.db
      .prepare(sql)
      .pluck()
      .all(...params) as string[];
  }

  private sameLastLeaf(log: ScrollLog, state: { size: number; last_leaf: Buffer | null }): boolean {
    if (state.size === 0 || state.size > log.size) return state.size === 0;
    return (
      state.last_leaf !== null && Buffer.from(log.tree.readNode(0, state.size - 1)).equals(state.last_leaf)
    );
  }
}
