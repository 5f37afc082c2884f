/**
 * The `vm` command line end to end, as a user runs it: init, emit, query, root, checkpoint,
 * proof bundles verified offline, consistency proofs, output formats, legacy import, reindex, start.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { fromBase64, toHex } from '../../src/core/bytes.js';
import { canonicalJson, type JsonValue } from '../../src/core/canonical.js';
import { verifyConsistency } from '../../src/core/merkle.js';
import {
  NODE_NAME,
  OBSERVABILITY_FILE,
  assertBuilt,
  entryBody,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  vm,
  vmAll,
  vmAsync,
  vmJson,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const ORIGIN = `vaultmesh.local/${NODE_NAME}`;
const EMPTY_ROOT_B64 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const SCROLL_COUNT = 14;

interface Receipt {
  body: Record<string, unknown>;
  issuer: string;
  root_hash: string;
  scroll: string;
  seq: number;
  tags: string[];
  ts: string;
  type: string;
  v: number;
}

interface RootRow {
  scroll: string;
  file: string;
  size: number;
  root: string;
  checkpointSize: number | null;
}

const seqsOf = (receipts: Receipt[]): number[] => receipts.map((r) => r.seq);

describe('vm init', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let first: VmResult;

  beforeAll(() => {
    tmp = makeTempDir('init');
    data = join(tmp.dir, 'data');
    first = vm(['init', '--name', NODE_NAME], { data });
  });
  afterAll(() => tmp.remove());

  it('creates the layout, a 0600 node key, the config and an empty signed checkpoint per scroll', () => {
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`initialized ${data}`);
    expect(first.stdout).toContain(`node DID:     did:vm:node:${NODE_NAME}`);
    expect(first.stdout).toContain(`origin:       ${ORIGIN}`);

    expect(statSync(join(data, 'keys/node.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'keys')).mode & 0o777).toBe(0o700);
    const config = readFileSync(join(data, 'vaultmesh.toml'), 'utf8');
    expect(config).toContain(`name = "${NODE_NAME}"`);
    expect(config).toContain(`origin = "${ORIGIN}"`);

    const note = readFileSync(join(data, 'receipts/treasury/checkpoint'), 'utf8');
    expect(note.startsWith(`${ORIGIN}/treasury\n0\n${EMPTY_ROOT_B64}\n\n— ${ORIGIN} `)).toBe(true);
    expect(existsSync(join(data, 'ROOT.treasury.txt'))).toBe(true);
    expect(existsSync(join(data, 'receipts/console/ROOT.console.txt'))).toBe(true);
    const roots = vmJson<RootRow[]>(['root'], { data });
    expect(roots).toHaveLength(SCROLL_COUNT);
    for (const row of roots) expect(row).toMatchObject({ size: 0, checkpointSize: 0 });
  });

  it('prints the verifier key, and never the signing key', async () => {
    const vkey = readFileSync(join(data, 'keys/node.vkey'), 'utf8').trim();
    expect(vkey).toMatch(new RegExp(`^${ORIGIN}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]+=*$`));
    expect(first.stdout).toContain(`verifier key: ${vkey}`);

    const [fromCli, fromEnv] = await Promise.all([
      vmAsync(['vkey'], { data }),
      vmAsync(['vkey'], { env: { VAULTMESH_DATA: data } }),
    ]);
    expect(fromCli.status).toBe(0);
    expect(fromCli.stdout).toBe(`${vkey}\n`);
    expect(fromEnv.stdout).toBe(`${vkey}\n`);

    const skey = readFileSync(join(data, 'keys/node.key'), 'utf8').trim();
    const prefix = /^PRIVATE\+KEY\+([^+]+)\+[0-9a-f]{8}\+/.exec(skey);
    expect(prefix?.[1]).toBe(ORIGIN);
    const secret = skey.slice(prefix![0].length); // base64, which may itself contain '+'
    expect(secret.length).toBeGreaterThan(40);
    const outputs = [
      first,
      fromCli,
      ...(await vmAll(
        [
          ['--format', 'json', 'init', '--name', NODE_NAME],
          ['--format', 'yaml', 'start'],
          ['checkpoint', 'treasury'],
          ['--format', 'json', 'verify'],
        ],
        { data },
      )),
    ];
    for (const out of outputs) {
      for (const text of [out.stdout, out.stderr]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain('PRIVATE+KEY');
      }
    }
  });

  it('refuses to initialize the same directory twice (DATA_DIR_EXISTS, exit 5) and keeps the key', async () => {
    const key = readFileSync(join(data, 'keys/node.key'));
    const [again, asJson] = await vmAll(
      [
        ['init', '--name', 'other-node'],
        ['--format', 'json', 'init'],
      ],
      { data },
    );
    expect(again.status).toBe(5);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^error\[DATA_DIR_EXISTS\]: .*already a VaultMesh data directory/);
    expect(again.stderr).toContain('hint: ');
    expect(asJson.status).toBe(5);
    expect(jsonError(asJson).code).toBe('DATA_DIR_EXISTS');
    expect(readFileSync(join(data, 'keys/node.key')).equals(key)).toBe(true);
    expect(readFileSync(join(data, 'vaultmesh.toml'), 'utf8')).toContain(`name = "${NODE_NAME}"`);
  });
});

describe('an observability scroll written with vm emit', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;
  let emitted: Receipt[];
  let firstEmit: VmResult;
  let emitOutputs: VmResult[];
  let vkey: string;

  // Six receipts with the fields the filters look at.
  const drafts: { type: string; body: Record<string, unknown>; tags?: string }[] = [
    {
      type: 'obs_metric_snapshot',
      body: entryBody('e0', { priority: 3, urgent: true, meta: { region: 'eu' } }),
      tags: 'a,b',
    },
    {
      type: 'obs_log_batch',
      body: entryBody('e1', { amount: '5.00', priority: 1, urgent: false }),
      tags: 'b',
    },
    {
      type: 'obs_metric_snapshot',
      body: entryBody('e2', {
        account: 'payroll',
        amount: '100.00',
        priority: 3,
        urgent: false,
        meta: { region: 'us' },
      }),
      tags: 'a',
    },
    { type: 'obs_alert_fired', body: { settlement_id: 's1', status: 'settled' }, tags: 'c' },
    { type: 'obs_metric_snapshot', body: entryBody('e4', { amount: '7', urgent: true }), tags: 'a,c' },
    { type: 'obs_log_batch', body: entryBody('e5', { account: 'payroll' }) },
  ];

  beforeAll(() => {
    tmp = makeTempDir('emit');
    data = join(tmp.dir, 'data');
    initNode(data);
    vkey = vm(['vkey'], { data }).stdout.trim();
    emitOutputs = [];
    drafts.forEach((d, i) => {
      const tags = d.tags === undefined ? [] : ['--tags', d.tags];
      let result: VmResult;
      if (i === 2) {
        // --body @file
        const file = join(tmp.dir, 'body.json');
        writeFileSync(file, JSON.stringify(d.body));
        result = vm(['--format', 'json', 'emit', 'observability', d.type, '--body', `@${file}`, ...tags], {
          data,
        });
      } else if (i === 3) {
        // --body @- (standard input)
        result = vm(['emit', 'observability', d.type, '--body', '@-', ...tags, '--format', 'json'], {
          data,
          input: JSON.stringify(d.body),
        });
      } else if (i === 0) {
        result = vm(['emit', 'observability', d.type, '--body', JSON.stringify(d.body), ...tags], { data });
        firstEmit = result;
      } else {
        result = vm(
          ['--format', 'json', 'emit', 'observability', d.type, '--body', JSON.stringify(d.body), ...tags],
          {
            data,
          },
        );
      }
      if (result.status !== 0) throw new Error(`emit ${i} failed: ${result.stderr}`);
      emitOutputs.push(result);
    });
    emitted = readReceipts(join(data, OBSERVABILITY_FILE)) as unknown as Receipt[];
  });
  afterAll(() => tmp.remove());

  it('appends one canonical receipt per emit, with seq, ts, issuer, tags and body hash', () => {
    expect(firstEmit.stdout).toMatch(
      /^recorded observability seq 0 \(obs_metric_snapshot\) blake3:[0-9a-f]{64}\n$/,
    );
    expect(emitted).toHaveLength(drafts.length);
    emitted.forEach((r, i) => {
      expect(r).toMatchObject({
        scroll: 'observability',
        seq: i,
        type: drafts[i]!.type,
        issuer: `did:vm:node:${NODE_NAME}`,
        v: 1,
        body: drafts[i]!.body,
        tags: drafts[i]!.tags === undefined ? [] : drafts[i]!.tags!.split(','),
      });
      expect(r.root_hash).toMatch(/^blake3:[0-9a-f]{64}$/);
      expect(r.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });
    // Each line is the RFC 8785 form of its receipt, byte for byte.
    const lines = readFileSync(join(data, OBSERVABILITY_FILE), 'utf8').split('\n');
    emitted.forEach((r, i) => expect(lines[i]).toBe(canonicalJson(r as unknown as JsonValue)));
    // Each emit is its own process, so times strictly increase (the time filters below rely on it).
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]!.ts > emitted[i - 1]!.ts).toBe(true);
  });

  it('emit --format json returns the receipt and the size of the checkpoint it published', () => {
    for (const i of [1, 2, 3, 4, 5]) {
      expect(JSON.parse(emitOutputs[i]!.stdout)).toEqual({ ...emitted[i], checkpointSize: i + 1 });
    }
  });

  /** Runs the queries side by side (each is its own process) and checks the seqs each returns. */
  async function expectQueries(cases: [string[], number[]][]): Promise<void> {
    const results = await vmAll(
      cases.map(([args]) => ['--format', 'json', 'receipts', 'observability', ...args]),
      { data },
    );
    cases.forEach(([args, expected], i) => {
      expect(results[i]!.status, results[i]!.stderr).toBe(0);
      expect(seqsOf(JSON.parse(results[i]!.stdout) as Receipt[]), args.join(' ')).toEqual(expected);
    });
  }

  it('receipts: no filter returns everything in seq order, with the exact lines', () => {
    expect(vmJson<Receipt[]>(['receipts', 'observability'], { data })).toEqual(emitted);
  });

  it('receipts --type and --tag (one or several; every tag must be present)', async () => {
    await expectQueries([
      [
        ['--type', 'obs_metric_snapshot'],
        [0, 2, 4],
      ],
      [
        ['--type', 'obs_metric_snapshot', 'obs_log_batch'],
        [0, 1, 2, 4, 5],
      ],
      [
        ['--tag', 'a'],
        [0, 2, 4],
      ],
      [['--tag', 'a', '--tag', 'c'], [4]],
      [['--tag', 'a', 'b'], [0]],
      [['--tag', 'zzz'], []],
    ]);
  });

  it('receipts --where with string, number, boolean, nested and decimal-string values', async () => {
    await expectQueries([
      [
        ['--where', 'account=ops'],
        [0, 1, 4],
      ],
      [
        ['--where', 'account="ops"'],
        [0, 1, 4],
      ],
      [
        ['--where', 'priority=3'],
        [0, 2],
      ],
      [
        ['--where', 'urgent=true'],
        [0, 4],
      ],
      [
        ['--where', 'urgent=false'],
        [1, 2],
      ],
      [['--where', 'meta.region=eu'], [0]],
      [
        ['--where', 'amount=12.50'],
        [0, 5],
      ],
      [
        ['--where', 'account=ops', '--where', 'urgent=true', '--type', 'obs_metric_snapshot'],
        [0, 4],
      ],
    ]);
  });

  it('receipts --from / --to (inclusive from, exclusive to, a --to date includes its whole day)', async () => {
    const ts = emitted.map((r) => r.ts);
    const day = (iso: string, deltaDays = 0): string =>
      new Date(Date.parse(iso.slice(0, 10)) + deltaDays * 86_400_000).toISOString().slice(0, 10);
    await expectQueries([
      [
        ['--from', ts[2]!],
        [2, 3, 4, 5],
      ],
      [
        ['--to', ts[2]!],
        [0, 1],
      ],
      [
        ['--from', ts[1]!, '--to', ts[4]!],
        [1, 2, 3],
      ],
      [
        ['--from', day(ts[0]!), '--to', day(ts[5]!), '--type', 'obs_log_batch'],
        [1, 5],
      ],
      [['--from', day(ts[5]!, 1)], []],
      [['--to', day(ts[0]!, -1)], []],
    ]);
  });

  it('receipts --limit and --reverse', async () => {
    await expectQueries([
      [
        ['--limit', '2'],
        [0, 1],
      ],
      [['--reverse'], [5, 4, 3, 2, 1, 0]],
      [
        ['--type', 'obs_metric_snapshot', '--reverse', '--limit', '2'],
        [4, 2],
      ],
      [['--limit', '0'], []],
    ]);
  });

  it('receipts in human and yaml formats', async () => {
    const [human, none, yaml] = await vmAll(
      [
        ['receipts', 'observability', '--tag', 'c'],
        ['receipts', 'observability', '--tag', 'zzz'],
        ['receipts', 'observability', '--format', 'yaml', '--where', 'urgent=true'],
      ],
      { data },
    );
    expect(human.status).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+TS\s+TYPE\s+TAGS\s+ROOT_HASH$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^3\s+\S+\s+obs_alert_fired\s+c\s+blake3:/);
    expect(lines[2]).toContain(emitted[4]!.root_hash);
    expect(none.stdout).toBe('no receipts match\n');
    expect(parseYaml(yaml.stdout)).toEqual([emitted[0], emitted[4]]);
  });

  it('root: size, RFC 6962 root and checkpoint size, in every format', async () => {
    const [json, yaml, human, all, scrolls] = await vmAll(
      [
        ['--format', 'json', 'root', 'observability'],
        ['root', 'observability', '--format', 'yaml'],
        ['root', 'observability'],
        ['--format', 'json', 'root'],
        ['--format', 'json', 'scrolls'],
      ],
      { data },
    );
    const rows = JSON.parse(json.stdout) as RootRow[];
    expect(rows).toEqual([
      {
        scroll: 'observability',
        file: OBSERVABILITY_FILE,
        size: 6,
        root: expect.stringMatching(/^[0-9a-f]{64}$/),
        checkpointSize: 6,
      },
    ]);
    expect(parseYaml(yaml.stdout)).toEqual(rows);
    expect(human.stdout).toMatch(new RegExp(`^SCROLL.*\\nobservability\\s+6\\s+6\\s+${rows[0]!.root}\\n$`));

    const allRows = JSON.parse(all.stdout) as RootRow[];
    expect(allRows).toHaveLength(SCROLL_COUNT);
    expect(allRows.find((r) => r.scroll === 'observability')).toEqual(rows[0]);
    expect(allRows.find((r) => r.scroll === 'console')).toMatchObject({ size: 0, checkpointSize: 0 });
    expect(JSON.parse(scrolls.stdout)).toEqual(allRows);

    const rootFile = readFileSync(join(data, 'ROOT.observability.txt'), 'utf8');
    expect(rootFile).toContain('engine_id=engine:observability\n');
    expect(rootFile).toContain(`merkle_root=${rows[0]!.root}\n`);
    expect(rootFile).toContain('events=6\n');
  });

  it('checkpoint: a C2SP signed note (origin, size, base64 root, blank line, signature)', async () => {
    const [result, rootJson, json] = await vmAll(
      [
        ['checkpoint', 'observability'],
        ['--format', 'json', 'root', 'observability'],
        ['--format', 'json', 'checkpoint', 'observability'],
      ],
      { data },
    );
    expect(result.status).toBe(0);
    const note = result.stdout;
    const lines = note.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(`${ORIGIN}/observability`);
    expect(lines[1]).toBe('6');
    expect(lines[2]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(new RegExp(`^— ${ORIGIN} [A-Za-z0-9+/]+=*$`));
    expect(lines[5]).toBe('');
    expect(note).toBe(readFileSync(join(data, 'receipts/observability/checkpoint'), 'utf8'));
    const root = (JSON.parse(rootJson.stdout) as RootRow[])[0]!.root;
    expect(toHex(fromBase64(lines[2]!))).toBe(root);
    expect(JSON.parse(json.stdout)).toEqual({
      origin: `${ORIGIN}/observability`,
      size: 6,
      root: lines[2],
      note,
    });
  });

  it('proof -> verify-bundle: ok with the local key, with --vkey, and from standard input', async () => {
    const bundleFile = join(tmp.dir, 'bundle.json');
    const [proof, toStdout] = await vmAll(
      [
        ['proof', 'observability', '3', '-o', bundleFile],
        ['proof', 'observability', '0'],
      ],
      { data },
    );
    expect(proof.status, proof.stderr).toBe(0);
    expect(proof.stderr).toContain(`wrote ${bundleFile}`);
    expect(toStdout.status).toBe(0);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Record<string, string>;
    expect(bundle.format).toBe('vaultmesh.receipt-bundle@v1');
    expect(bundle.origin).toBe(`${ORIGIN}/observability`);
    const lines = readFileSync(join(data, OBSERVABILITY_FILE), 'utf8').split('\n');
    expect(bundle.receipt).toBe(lines[3]);
    expect(bundle.proof!.startsWith('c2sp.org/tlog-proof@v1\nindex 3\n')).toBe(true);

    const [local, offline, piped] = await Promise.all([
      vmAsync(['verify-bundle', bundleFile], { data }),
      // The verifier needs no data directory when given the key.
      vmAsync(['verify-bundle', bundleFile, '--vkey', vkey, '--format', 'json'], {
        data: join(tmp.dir, 'nowhere'),
      }),
      vmAsync(['verify-bundle', '-', '--vkey', vkey], { data, input: toStdout.stdout }),
    ]);
    expect(local.status, local.stderr).toBe(0);
    expect(local.stdout).toMatch(
      /^ok: observability seq 3 \(obs_alert_fired, .*\) is in the tree of 6 receipts/,
    );
    expect(offline.status, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({
      ok: true,
      scroll: 'observability',
      seq: 3,
      type: 'obs_alert_fired',
      ts: emitted[3]!.ts,
      root_hash: emitted[3]!.root_hash,
      checkpoint: { origin: `${ORIGIN}/observability`, size: 6 },
      signedBy: [ORIGIN],
    });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('ok: observability seq 0 (obs_metric_snapshot');
  });

  it("verify-bundle with another node's key fails with UNKNOWN_SIGNER (exit 4)", async () => {
    const bundleFile = join(tmp.dir, 'bundle-other.json');
    // A node with the same name (so the same key name in the note) but its own key.
    const other = join(tmp.dir, 'other-node');
    const [proof, init] = await Promise.all([
      vmAsync(['proof', 'observability', '2', '-o', bundleFile], { data }),
      vmAsync(['--format', 'json', 'init', '--name', NODE_NAME], { data: other }),
    ]);
    expect(proof.status).toBe(0);
    const otherKey = (JSON.parse(init.stdout) as { vkey: string }).vkey;
    expect(otherKey).not.toBe(vkey);
    expect(otherKey.startsWith(`${ORIGIN}+`)).toBe(true);
    const [withFlag, byDir] = await Promise.all([
      vmAsync(['--format', 'json', 'verify-bundle', bundleFile, '--vkey', otherKey], { data }),
      // The other node's data directory supplies its key by default.
      vmAsync(['verify-bundle', bundleFile], { data: other }),
    ]);
    expect(withFlag.status).toBe(4);
    expect(withFlag.stdout).toBe('');
    expect(jsonError(withFlag).code).toBe('UNKNOWN_SIGNER');
    expect(byDir.status).toBe(4);
    expect(byDir.stderr).toMatch(/^error\[UNKNOWN_SIGNER\]: /);
  });

  it('a tampered bundle fails verification with exit 4', async () => {
    const bundleFile = join(tmp.dir, 'bundle-t.json');
    expect(vm(['proof', 'observability', '1', '-o', bundleFile], { data }).status).toBe(0);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Record<string, string>;
    const proofLines = bundle.proof!.split('\n');
    expect(proofLines[2]).toMatch(/^[A-Za-z0-9+/]{43}=$/); // the first proof hash
    const flip = (s: string, i: number): string =>
      s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const variants: [string, Record<string, string>, string][] = [
      [
        'receipt body',
        { ...bundle, receipt: bundle.receipt!.replace('"memo":"m"', '"memo":"n"') },
        'BUNDLE_INVALID',
      ],
      [
        'receipt ts',
        {
          ...bundle,
          receipt: bundle.receipt!.replace(/"ts":"(\d)/, (_m, d: string) => `"ts":"${(Number(d) + 1) % 10}`),
        },
        'INCLUSION_MISMATCH',
      ],
      [
        'proof hash',
        {
          ...bundle,
          proof: [...proofLines.slice(0, 2), flip(proofLines[2]!, 5), ...proofLines.slice(3)].join('\n'),
        },
        'INCLUSION_MISMATCH',
      ],
      [
        'checkpoint size',
        {
          ...bundle,
          proof: bundle.proof!.replace(`\n${ORIGIN}/observability\n6\n`, `\n${ORIGIN}/observability\n7\n`),
        },
        'SIGNATURE_INVALID',
      ],
    ];
    const files = variants.map(([what, tampered], i) => {
      expect(JSON.stringify(tampered), what).not.toBe(JSON.stringify(bundle));
      const file = join(tmp.dir, `tampered-${i}.json`);
      writeFileSync(file, JSON.stringify(tampered, null, 2));
      return file;
    });
    const results = await vmAll(
      [
        ...files.map((file) => ['--format', 'json', 'verify-bundle', file, '--vkey', vkey]),
        ['verify-bundle', bundleFile, '--vkey', vkey],
      ],
      { data },
    );
    variants.forEach(([what, , code], i) => {
      expect(results[i]!.status, what).toBe(4);
      expect(results[i]!.stdout, what).toBe('');
      expect(jsonError(results[i]!).code, what).toBe(code);
    });
    // The untouched bundle still verifies.
    expect(results[variants.length]!.status).toBe(0);
  });

  it('consistency: proves that size 2 is a prefix of size 6', async () => {
    interface Consistency {
      scroll: string;
      oldSize: number;
      newSize: number;
      oldRoot: string;
      newRoot: string;
      proof: string[];
    }
    const [json, defaulted, human, backwards] = await vmAll(
      [
        ['--format', 'json', 'consistency', 'observability', '2', '6'],
        ['--format', 'json', 'consistency', 'observability', '2'],
        ['consistency', 'observability', '2', '6'],
        ['consistency', 'observability', '6', '2'],
      ],
      { data },
    );
    const c = JSON.parse(json.stdout) as Consistency;
    expect(c).toMatchObject({ scroll: 'observability', oldSize: 2, newSize: 6 });
    expect(c.proof.length).toBeGreaterThan(0);
    const checkpointRoot = readFileSync(join(data, 'receipts/observability/checkpoint'), 'utf8').split(
      '\n',
    )[2];
    expect(c.newRoot).toBe(checkpointRoot);
    const proof = c.proof.map((p) => fromBase64(p));
    expect(() => verifyConsistency(2, 6, fromBase64(c.oldRoot), fromBase64(c.newRoot), proof)).not.toThrow();
    // A wrong old root does not verify against the proof.
    expect(() => verifyConsistency(2, 6, fromBase64(c.newRoot), fromBase64(c.newRoot), proof)).toThrow();

    expect(JSON.parse(defaulted.stdout)).toEqual(c);
    expect(human.stdout.split('\n').slice(0, 3)).toEqual([
      'observability: 2 -> 6',
      `old root ${c.oldRoot}`,
      `new root ${c.newRoot}`,
    ]);
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toMatch(/^error\[INVALID_ARGUMENT\]: old-size 6 is larger than new-size 2/);
  });

  it('--format is a global option: before or after the subcommand, json and yaml parse', async () => {
    const [before, after, yaml, types] = await vmAll(
      [
        ['--format', 'json', 'verify', 'observability'],
        ['verify', 'observability', '--format', 'json'],
        ['verify', '--format', 'yaml', 'observability'],
        ['types', 'compliance', '--format', 'json'],
      ],
      { data },
    );
    expect(before.status).toBe(0);
    expect(after.status).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(before.stdout));
    expect(JSON.parse(before.stdout)).toMatchObject({
      ok: true,
      scrolls: [
        { scroll: 'observability', ok: true, lines: 6, recorded: 6, checkpointSize: 6, findings: [] },
      ],
    });
    const typeRows = JSON.parse(types.stdout) as { scroll: string; type: string; fields: string[] }[];
    expect(typeRows.map((t) => [t.scroll, t.type])).toEqual([['compliance', 'oracle_answer']]);
    expect(typeRows[0]!.fields).toEqual([
      'question',
      'model_id',
      'citations_used',
      'compliance_flags',
      'answer_hash',
      'context_docs',
      'frameworks',
      'extra',
    ]);
  });

  it('verify and verify --deep pass on an untouched data directory', async () => {
    const [plain, deep] = await vmAll([['verify'], ['verify', 'observability', '--deep']], { data });
    expect(plain.status, plain.stdout).toBe(0);
    expect(plain.stdout).toContain('ok   observability: 6 receipts, root ');
    expect(plain.stdout.trimEnd().split('\n')).toHaveLength(SCROLL_COUNT);
    expect(deep.status, deep.stdout).toBe(0);
  });

  it('reindex rebuilds the sidecars and query index and keeps every root identical', async () => {
    const before = vmJson<RootRow[]>(['root'], { data });
    const sidecar = join(data, 'index/observability/level-0.bin');
    const leafHashes = readFileSync(sidecar);
    const one = vmJson<{ scroll: string; size: number }[]>(['reindex', 'observability'], { data });
    expect(one).toEqual([{ scroll: 'observability', size: 6 }]);
    expect(readFileSync(sidecar).equals(leafHashes)).toBe(true);
    const all = vm(['reindex'], { data });
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toContain('reindexed observability: 6 receipts');
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(SCROLL_COUNT);
    const [after, tagged, deep] = await vmAll(
      [
        ['--format', 'json', 'root'],
        ['--format', 'json', 'receipts', 'observability', '--tag', 'a'],
        ['verify', '--deep'],
      ],
      { data },
    );
    expect(JSON.parse(after.stdout)).toEqual(before);
    expect(seqsOf(JSON.parse(tagged.stdout) as Receipt[])).toEqual([0, 2, 4]);
    expect(deep.status, deep.stdout).toBe(0);
    // And the scroll still takes appends after the rebuild.
    const next = vm(
      ['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody('e6'))],
      {
        data,
      },
    );
    expect(next.status, next.stderr).toBe(0);
    expect(next.stdout).toContain('recorded observability seq 6 ');
    expect(vm(['verify', 'observability'], { data }).status).toBe(0);
  });
});

describe('vm import', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let data: string;

  beforeAll(() => {
    tmp = makeTempDir('import');
    data = join(tmp.dir, 'data');
    initNode(data);
  });
  afterAll(() => tmp.remove());

  const drill = (i: number, extra: Record<string, unknown> = {}) => ({
    type: 'security_drill_run',
    timestamp: `2025-06-0${i + 1}T10:00:00Z`,
    tags: ['drill', `d${i}`],
    drill_id: `drill-${i}`,
    prompt: `exercise ${i}: phishing response`,
    timestamp_started: `2025-06-0${i + 1}T10:00:00Z`,
    timestamp_completed: `2025-06-0${i + 1}T11:30:00Z`,
    status: 'completed',
    stages_total: 4,
    stages_completed: 4,
    domains: ['email', 'identity'],
    workflows: ['triage', 'contain'],
    ...extra,
  });

  it('imports legacy JSONL in the seed shape: each object becomes a receipt body, with its tags', async () => {
    const rows = [drill(0), drill(1, { status: 'aborted', stages_completed: 2 }), drill(2)];
    const file = join(tmp.dir, 'legacy.jsonl');
    // A blank line in the middle is skipped.
    writeFileSync(
      file,
      `${JSON.stringify(rows[0])}\n\n${JSON.stringify(rows[1])}\n${JSON.stringify(rows[2])}\n`,
    );
    const result = vm(['import', file, '--scroll', 'drills'], { data });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('imported 3 receipts into drills (seq 0..2)\n');

    const [all, aborted, tagged, root, verify] = await vmAll(
      [
        ['--format', 'json', 'receipts', 'drills'],
        [
          '--format',
          'json',
          'receipts',
          'drills',
          '--where',
          'status=aborted',
          '--where',
          'stages_completed=2',
        ],
        ['--format', 'json', 'receipts', 'drills', '--tag', 'd2'],
        ['--format', 'json', 'root', 'drills'],
        ['verify', 'drills', '--deep'],
      ],
      { data },
    );
    const receipts = JSON.parse(all.stdout) as Receipt[];
    expect(receipts).toHaveLength(3);
    receipts.forEach((r, i) => {
      expect(r).toMatchObject({ scroll: 'drills', seq: i, type: 'security_drill_run', tags: rows[i]!.tags });
      expect(r.body).toEqual(rows[i]);
    });
    expect(seqsOf(JSON.parse(aborted.stdout) as Receipt[])).toEqual([1]);
    expect(seqsOf(JSON.parse(tagged.stdout) as Receipt[])).toEqual([2]);
    expect((JSON.parse(root.stdout) as RootRow[])[0]).toMatchObject({ size: 3, checkpointSize: 3 });
    expect(verify.status, verify.stdout).toBe(0);
  });

  it('--type names the type of objects that carry none; an empty file imports nothing', async () => {
    const file = join(tmp.dir, 'untyped.jsonl');
    const untyped: Record<string, unknown> = drill(3);
    delete untyped.type;
    writeFileSync(file, `${JSON.stringify(untyped)}\n`);
    const empty = join(tmp.dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    const [result, nothing] = await vmAll(
      [
        ['--format', 'json', 'import', file, '--scroll', 'Drills', '--type', 'security_drill_run'],
        ['import', empty, '--scroll', 'drills'],
      ],
      { data },
    );
    expect(JSON.parse(result.stdout)).toEqual({ scroll: 'drills', imported: 1, firstSeq: 3, lastSeq: 3 });
    expect(nothing.status).toBe(0);
    expect(nothing.stdout).toBe('nothing to import\n');
    expect(vmJson<RootRow[]>(['root', 'drills'], { data })[0]).toMatchObject({ size: 4, checkpointSize: 4 });
  });
});

describe('vm start', () => {
  let tmp: ReturnType<typeof makeTempDir>;

  beforeAll(() => {
    tmp = makeTempDir('start');
  });
  afterAll(() => tmp.remove());

  it('initializes an empty directory and lists the 14 scrolls; a second start reuses it', () => {
    const data = tmp.dir; // exists and is empty
    const first = vm(['start'], { data });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain(`initialized a new data directory at ${data}`);
    expect(first.stdout).toContain('VaultMesh node did:vm:node:');
    const table = first.stdout.split('\n').filter((l) => /^[a-z]+\s+0\s+e3b0c442/.test(l));
    expect(table).toHaveLength(SCROLL_COUNT);
    expect(statSync(join(data, 'keys/node.key')).mode & 0o777).toBe(0o600);

    const key = readFileSync(join(data, 'keys/node.key'));
    const second = vm(['--format', 'json', 'start'], { data });
    expect(second.status).toBe(0);
    expect(second.stderr).toBe('');
    const json = JSON.parse(second.stdout) as {
      dataDir: string;
      scrolls: { scroll: string; size: number }[];
    };
    expect(json.dataDir).toBe(data);
    expect(json.scrolls.map((s) => s.scroll).sort()).toEqual(
      [
        'automation',
        'compliance',
        'console',
        'drills',
        'federation',
        'governance',
        'guardian',
        'identity',
        'mesh',
        'observability',
        'offsec',
        'psi',
        'remembrancer',
        'treasury',
      ].sort(),
    );
    expect(readFileSync(join(data, 'keys/node.key')).equals(key)).toBe(true);
  });
});
