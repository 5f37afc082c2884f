/** vm proof carries the anchor that covers a receipt; vm verify-bundle checks the chain offline. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, entryBody, initNode, makeTempDir, vm } from '../helpers/vm.js';

interface Bundle {
  anchor?: {
    statement: { id: string; heads: { scroll: string; size: number }[] };
    evidence: { backend: string; files: { name: string; data: string }[] }[];
  };
}

describe('anchored receipt bundles', () => {
  const tmp = makeTempDir('anchored-bundle');
  const data = join(tmp.dir, 'data');
  const file = (name: string) => join(tmp.dir, name);

  beforeAll(() => {
    assertBuilt();
    initNode(data);
    for (const id of ['a', 'b']) {
      const emitted = vm(
        ['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody(id))],
        { data },
      );
      expect(emitted.status, emitted.stderr).toBe(0);
    }
  });
  afterAll(() => tmp.remove());

  it('a bundle made before any anchor says none covers it', () => {
    expect(vm(['proof', 'observability', '0', '-o', file('plain.json')], { data }).status).toBe(0);
    const plain = JSON.parse(readFileSync(file('plain.json'), 'utf8')) as Bundle;
    expect(plain.anchor).toBeUndefined();
    const verified = vm(['verify-bundle', file('plain.json')], { data });
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('no anchor covers it yet');
  });

  it('after a cycle, the bundle carries the anchor and its evidence, and verifies offline', () => {
    expect(vm(['guardian', 'anchor-now'], { data }).status).toBe(0);
    expect(
      vm(['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody('c'))], { data })
        .status,
    ).toBe(0);
    expect(vm(['proof', 'observability', '1', '-o', file('anchored.json')], { data }).status).toBe(0);
    const bundle = JSON.parse(readFileSync(file('anchored.json'), 'utf8')) as Bundle;
    expect(bundle.anchor?.statement.heads.find((h) => h.scroll === 'observability')?.size).toBe(2);
    expect(bundle.anchor?.evidence.map((e) => e.backend)).toEqual(['local']);
    const vkey = vm(['vkey'], { data }).stdout.trim();
    const verified = vm(['--format', 'json', 'verify-bundle', file('anchored.json'), '--vkey', vkey]);
    expect(verified.status, verified.stderr).toBe(0);
    const result = JSON.parse(verified.stdout) as { ok: boolean; anchor: { evidence: { status: string }[] } };
    expect(result.ok).toBe(true);
    expect(result.anchor.evidence.map((e) => e.status)).toEqual(['ok']);
    // Receipt seq 2 came after the anchor: its bundle is not covered.
    expect(vm(['proof', 'observability', '2'], { data }).stdout).not.toContain('"anchor"');
  });

  it('a doctored anchor section or doctored evidence fails with exit 4', () => {
    const bundle = JSON.parse(readFileSync(file('anchored.json'), 'utf8')) as Bundle;
    const heads = structuredClone(bundle);
    heads.anchor!.statement.heads.find((h) => h.scroll === 'observability')!.size = 1;
    writeFileSync(file('heads.json'), JSON.stringify(heads));
    const badHeads = vm(['verify-bundle', file('heads.json')], { data });
    expect(badHeads.status).toBe(4);
    expect(badHeads.stderr).toContain('BUNDLE_INVALID');

    const evidence = structuredClone(bundle);
    const note = evidence.anchor!.evidence[0]!.files[0]!;
    const text = Buffer.from(note.data, 'base64')
      .toString('utf8')
      .replace(/sha256:[0-9a-f]{4}/, 'sha256:0000');
    note.data = Buffer.from(text).toString('base64');
    writeFileSync(file('evidence.json'), JSON.stringify(evidence));
    const badEvidence = vm(['verify-bundle', file('evidence.json')], { data });
    expect(badEvidence.status).toBe(4);
    expect(badEvidence.stdout).toMatch(/FAIL/);
  });
});
