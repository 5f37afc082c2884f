/**
 * Anchors on disk: `anchors/<id>/statement.json` (what was anchored: every scroll's signed head and
 * the combined root, in canonical JSON) and `anchors/<id>/<backend>/<file>` (each backend's
 * evidence: a TSA token, an .ots proof, a transaction). Receipts in the Guardian scroll pin each
 * file's SHA-256, so the evidence cannot be swapped unnoticed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, parseJson, type JsonValue } from '../core/canonical.js';
import { VaultMeshError } from '../core/errors.js';
import { assertSafeFileName, assertSafeId } from '../core/ids.js';
import type { DataDir } from './data-dir.js';
import { fsyncDirectory, writeFileDurably } from './durable.js';
import { sha256File } from './file-hash.js';

export interface AnchoredHead {
  scroll: string;
  size: number;
  /** `sha256:<hex>` of the scroll's RFC 6962 root at that size. */
  root: string;
}

export interface AnchorStatement {
  v: 1;
  id: string;
  node: string;
  origin: string;
  time: string;
  /** `sha256:<hex>`: the RFC 6962 root over the heads (DESIGN §4), the digest every backend anchors. */
  combined_root: string;
  heads: AnchoredHead[];
}

export interface StoredEvidence {
  name: string;
  sha256: string;
}

export class AnchorStore {
  readonly root: string;

  constructor(dataDir: DataDir) {
    this.root = join(dataDir.root, 'anchors');
  }

  dir(id: string): string {
    return join(this.root, assertSafeId(id, 'anchor id'));
  }

  create(statement: AnchorStatement): void {
    mkdirSync(this.dir(statement.id), { recursive: true });
    writeFileDurably(
      join(this.dir(statement.id), 'statement.json'),
      `${canonicalJson(statement as unknown as JsonValue)}\n`,
    );
  }

  saveEvidence(
    id: string,
    backend: string,
    files: readonly { name: string; bytes: Uint8Array }[],
  ): StoredEvidence[] {
    const dir = join(this.dir(id), assertSafeId(backend, 'backend name'));
    mkdirSync(dir, { recursive: true });
    const stored = files.map((file) => {
      const path = join(dir, assertSafeFileName(file.name, 'evidence file'));
      writeFileDurably(path, file.bytes);
      return { name: file.name, sha256: sha256File(path).sha256 };
    });
    fsyncDirectory(dir);
    return stored;
  }

  statement(id: string): AnchorStatement {
    const path = join(this.dir(id), 'statement.json');
    if (!existsSync(path)) {
      throw new VaultMeshError('NOT_RECORDED', `no anchor ${id} in ${this.root}`, {
        hint: 'list the anchors with: vm guardian anchors',
      });
    }
    return parseJson(readFileSync(path, 'utf8'), path) as unknown as AnchorStatement;
  }

  evidence(id: string, backend: string): { name: string; bytes: Uint8Array }[] {
    const dir = join(this.dir(id), assertSafeId(backend, 'backend name'));
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .sort()
      .map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
  }
}
