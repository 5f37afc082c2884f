/**
 * Bad input at the command line: each mistake gets a clear error naming what was wrong (human:
 * `error[CODE]: message` + `hint:`; json: {"error":{code,message,hint,evidence}}), the documented
 * exit status, and nothing written — the data directory (scroll files, sidecars, checkpoints, ROOT
 * files) and `vm root` are byte for byte the same before and after.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OBSERVABILITY_FILE,
  answerBody,
  assertBuilt,
  entryBody,
  initNode,
  jsonError,
  makeTempDir,
  snapshotDataDir,
  vm,
  vmAll,
  vmAsync,
  vmJson,
  type CliError,
  type VmOptions,
} from '../helpers/vm.js';

assertBuilt();

const EXIT = { usage: 2, notFound: 3, verification: 4, io: 5 } as const;

let tmp: ReturnType<typeof makeTempDir>;
let data: string;
let rootBefore: string;

beforeAll(() => {
  tmp = makeTempDir('bad-input');
  data = join(tmp.dir, 'data');
  initNode(data);
  for (const id of ['e0', 'e1']) {
    const r = vm(['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody(id))], {
      data,
    });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  rootBefore = vm(['--format', 'json', 'root'], { data }).stdout;
});
afterAll(() => tmp.remove());

interface Expectation {
  status: number;
  code: string;
  /** Text the message must contain (the field, value or line it names). */
  names: (string | RegExp)[];
  /** Whether the error carries a hint (true for every error a user is expected to fix). */
  hint?: boolean;
  /** Also run it with human output and check `error[CODE]: message` and `  hint: ...` on stderr. */
  human?: boolean;
}

/**
 * Runs the command with --format json (and, if asked, with human output), checks the error, and
 * checks that nothing in `dataDir` changed.
 */
async function expectRefused(
  args: string[],
  expected: Expectation,
  options: VmOptions = {},
  dataDir = data,
): Promise<CliError> {
  const before = snapshotDataDir(dataDir);
  const [json, human] = await Promise.all([
    vmAsync(['--format', 'json', ...args], { data: dataDir, ...options }),
    expected.human === true ? vmAsync(args, { data: dataDir, ...options }) : undefined,
  ]);
  expect(json.status, json.stderr).toBe(expected.status);
  expect(json.stdout).toBe('');
  const error = jsonError(json);
  expect(error.code).toBe(expected.code);
  for (const name of expected.names) {
    if (typeof name === 'string') expect(error.message).toContain(name);
    else expect(error.message).toMatch(name);
  }
  if (expected.hint !== false) expect(error.hint).toEqual(expect.any(String));

  if (human !== undefined) {
    expect(human.status).toBe(expected.status);
    expect(human.stdout).toBe('');
    const hint = expected.hint === false ? '' : `  hint: ${error.hint}\n`;
    expect(human.stderr).toBe(`error[${expected.code}]: ${error.message}\n${hint}`);
  }

  expect(snapshotDataDir(dataDir)).toEqual(before);
  return error;
}

function expectRootUnchanged(): void {
  expect(vm(['--format', 'json', 'root'], { data }).stdout).toBe(rootBefore);
}

const emitArgs = (body: string, ...rest: string[]): string[] => [
  'emit',
  'observability',
  'obs_metric_snapshot',
  '--body',
  body,
  ...rest,
];

/** Emits of a typed body (compliance oracle_answer), for the schema checks. */
const answerArgs = (body: string): string[] => ['emit', 'compliance', 'oracle_answer', '--body', body];

describe('vm emit refuses bad receipts and writes nothing', () => {
  it('malformed JSON body -> INVALID_JSON (exit 2) naming --body', async () => {
    await expectRefused(emitArgs('{"entry_id":"e1",'), {
      status: EXIT.usage,
      code: 'INVALID_JSON',
      names: ['--body'],
      human: true,
    });
  });

  it('unknown scroll -> UNKNOWN_SCROLL (exit 3) naming it and listing the scrolls', async () => {
    const error = await expectRefused(
      ['emit', 'observabilty', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody('x'))],
      {
        status: EXIT.notFound,
        code: 'UNKNOWN_SCROLL',
        names: ['"observabilty"'],
        human: true,
      },
    );
    expect(error.hint).toContain('observability');
  });

  it('unknown type -> UNKNOWN_TYPE (exit 3) naming it and listing the types', async () => {
    const error = await expectRefused(
      ['emit', 'observability', 'obs_metric_rollup', '--body', JSON.stringify(entryBody('x'))],
      {
        status: EXIT.notFound,
        code: 'UNKNOWN_TYPE',
        names: ['"obs_metric_rollup"', 'observability'],
        human: true,
      },
    );
    expect(error.hint).toContain('obs_metric_snapshot');
  });

  it('body failing its schema -> INVALID_BODY (exit 2) naming the field', async () => {
    const missing = answerBody();
    delete missing.answer_hash;
    const [wrongType, absent, malformed] = await Promise.all([
      expectRefused(answerArgs(JSON.stringify(answerBody({ citations_used: 'policy/retention.md' }))), {
        status: EXIT.usage,
        code: 'INVALID_BODY',
        names: ['body.citations_used', 'oracle_answer'],
        human: true,
      }),
      expectRefused(answerArgs(JSON.stringify(missing)), {
        status: EXIT.usage,
        code: 'INVALID_BODY',
        names: ['body.answer_hash'],
      }),
      expectRefused(answerArgs(JSON.stringify(answerBody({ answer_hash: 'sha256:abc' }))), {
        status: EXIT.usage,
        code: 'INVALID_BODY',
        names: ['body.answer_hash', '64 hex'],
      }),
      expectRefused(emitArgs('[1,2,3]'), {
        status: EXIT.usage,
        code: 'INVALID_BODY',
        names: ['JSON object'],
      }),
      expectRefused(
        emitArgs(
          '{"entry_id":"x","account":"ops","amount":"1","currency":"EUR","memo":"m","n":9007199254740993}',
        ),
        { status: EXIT.usage, code: 'INVALID_BODY', names: ['.n', '2^53'] },
      ),
    ]);
    expect(wrongType.evidence).toEqual({ field: 'body.citations_used', type: 'oracle_answer' });
    expect(absent.evidence).toMatchObject({ field: 'body.answer_hash' });
    expect(malformed.evidence).toEqual({ field: 'body.answer_hash', type: 'oracle_answer' });
  });

  it('a type its engine alone writes -> RESERVED_TYPE (exit 2) naming the type and the engine', async () => {
    const [treasury, identity, mesh] = await Promise.all([
      expectRefused(['emit', 'treasury', 'treasury_debit', '--body', JSON.stringify(entryBody('x'))], {
        status: EXIT.usage,
        code: 'RESERVED_TYPE',
        names: ['treasury_debit'],
        human: true,
      }),
      expectRefused(['emit', 'identity', 'identity_did_create', '--body', '{"did":"did:vm:human:alice"}'], {
        status: EXIT.usage,
        code: 'RESERVED_TYPE',
        names: ['identity_did_create'],
      }),
      expectRefused(['emit', 'mesh', 'mesh_node_join', '--body', '{"node_id":"n-0"}'], {
        status: EXIT.usage,
        code: 'RESERVED_TYPE',
        names: ['mesh_node_join'],
      }),
    ]);
    expect(treasury.hint).toContain('Treasury engine');
    expect(treasury.evidence).toEqual({ field: 'type', type: 'treasury_debit' });
    expect(identity.hint).toContain('Identity engine');
    expect(mesh.hint).toContain('Mesh engine');
    expectRootUnchanged();
  });

  it('oversized body (> 256 KiB) -> BODY_TOO_LARGE (exit 2), from a file and from standard input', async () => {
    const big = JSON.stringify(entryBody('big', { memo: 'x'.repeat(256 * 1024) }));
    const file = join(tmp.dir, 'big.json');
    writeFileSync(file, big);
    await Promise.all([
      expectRefused(emitArgs(`@${file}`), {
        status: EXIT.usage,
        code: 'BODY_TOO_LARGE',
        names: ['262144'],
        human: true,
      }),
      expectRefused(
        emitArgs('@-'),
        { status: EXIT.usage, code: 'BODY_TOO_LARGE', names: ['262144'] },
        { input: big },
      ),
    ]);
  });

  it('--body @file that does not exist -> INVALID_ARGUMENT (exit 2) naming the file', async () => {
    const missing = join(tmp.dir, 'no-such-body.json');
    await expectRefused(emitArgs(`@${missing}`), {
      status: EXIT.usage,
      code: 'INVALID_ARGUMENT',
      names: [missing],
      human: true,
    });
  });

  it('bad tags -> INVALID_ARGUMENT (exit 2) naming the tag', async () => {
    const body = JSON.stringify(entryBody('x'));
    const tooMany = Array.from({ length: 33 }, (_, i) => `t${i}`).join(',');
    await Promise.all([
      expectRefused(emitArgs(body, '--tags', 'ok,-leading-dash'), {
        status: EXIT.usage,
        code: 'INVALID_ARGUMENT',
        names: ['tag "-leading-dash"'],
        human: true,
      }),
      expectRefused(emitArgs(body, '--tags', 'a,,b'), {
        status: EXIT.usage,
        code: 'INVALID_ARGUMENT',
        names: ['tag ""'],
      }),
      expectRefused(emitArgs(body, '--tags', tooMany), {
        status: EXIT.usage,
        code: 'INVALID_ARGUMENT',
        names: ['32 tags'],
        hint: false,
      }),
    ]);
    expectRootUnchanged();
  });
});

describe('queries and proofs with bad arguments', () => {
  it('bad --where -> INVALID_WHERE (exit 2) quoting it', async () => {
    await expectRefused(['receipts', 'observability', '--where', 'account'], {
      status: EXIT.usage,
      code: 'INVALID_WHERE',
      names: ['--where "account"'],
      human: true,
    });
  });

  it('bad --from / --to / --limit -> INVALID_TIME / INVALID_ARGUMENT (exit 2) naming the option', async () => {
    await Promise.all([
      expectRefused(['receipts', 'observability', '--from', 'yesterday'], {
        status: EXIT.usage,
        code: 'INVALID_TIME',
        names: ['--from "yesterday"'],
        human: true,
      }),
      expectRefused(['receipts', 'observability', '--to', '2026-13-01'], {
        status: EXIT.usage,
        code: 'INVALID_TIME',
        names: ['--to "2026-13-01"'],
      }),
      expectRefused(['receipts', 'observability', '--limit', 'ten'], {
        status: EXIT.usage,
        code: 'INVALID_ARGUMENT',
        names: ['--limit', '"ten"'],
      }),
    ]);
  });

  it('an impossible calendar date (--from 2026-02-30) -> INVALID_TIME, not a silent roll-over to March 2', async () => {
    await expectRefused(['receipts', 'observability', '--from', '2026-02-30'], {
      status: EXIT.usage,
      code: 'INVALID_TIME',
      names: ['--from "2026-02-30"'],
    });
  });

  it('receipts of an unknown scroll or type -> exit 3', async () => {
    await Promise.all([
      expectRefused(['receipts', 'nope'], {
        status: EXIT.notFound,
        code: 'UNKNOWN_SCROLL',
        names: ['"nope"'],
      }),
      expectRefused(['receipts', 'observability', '--type', 'nope'], {
        status: EXIT.notFound,
        code: 'UNKNOWN_TYPE',
        names: ['"nope"'],
      }),
    ]);
  });

  it('bad seq: proof observability abc -> INVALID_ARGUMENT (exit 2); proof observability 99 -> SEQ_OUT_OF_RANGE (exit 3)', async () => {
    const [, range] = await Promise.all([
      expectRefused(['proof', 'observability', 'abc'], {
        status: EXIT.usage,
        code: 'INVALID_ARGUMENT',
        names: ['seq', '"abc"'],
      }),
      expectRefused(['proof', 'observability', '99'], {
        status: EXIT.notFound,
        code: 'SEQ_OUT_OF_RANGE',
        names: ['seq 99', 'size 2'],
        human: true,
      }),
      expectRefused(['proof', 'console', '0'], {
        status: EXIT.notFound,
        code: 'SEQ_OUT_OF_RANGE',
        names: ['seq 0'],
      }),
      expectRefused(['consistency', 'observability', '1', '5'], {
        status: EXIT.notFound,
        code: 'SEQ_OUT_OF_RANGE',
        names: ['new-size 5'],
      }),
    ]);
    expect(range.hint).toContain('0 to 1');
  });

  it('verify-bundle of a file that is not a bundle -> BUNDLE_PARSE (exit 2); a missing file -> IO_ERROR (exit 5)', async () => {
    const notBundle = join(tmp.dir, 'not-a-bundle.json');
    writeFileSync(notBundle, '{"format":"something-else"}');
    const missing = join(tmp.dir, 'no-bundle.json');
    await Promise.all([
      expectRefused(['verify-bundle', notBundle], {
        status: EXIT.usage,
        code: 'BUNDLE_PARSE',
        names: ['format'],
      }),
      expectRefused(['verify-bundle', missing], {
        status: EXIT.io,
        code: 'IO_ERROR',
        names: [missing],
        hint: false,
      }),
    ]);
  });
});

describe('vm import refuses a file with a bad line and imports nothing', () => {
  const drill = (i: number) => ({
    type: 'security_drill_run',
    timestamp: '2025-06-01T10:00:00Z',
    tags: ['drill'],
    drill_id: `drill-${i}`,
    prompt: 'p',
    timestamp_started: '2025-06-01T10:00:00Z',
    status: 'completed',
    stages_total: 2,
    stages_completed: 2,
    domains: ['email'],
    workflows: ['triage'],
  });

  it('a schema failure on line 3 -> IMPORT_LINE (exit 2) naming line 3 and the field', async () => {
    const file = join(tmp.dir, 'legacy-bad-3.jsonl');
    const bad = { ...drill(2), status: 'exploded' };
    writeFileSync(file, [drill(0), drill(1), bad, drill(3)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const error = await expectRefused(['import', file, '--scroll', 'drills'], {
      status: EXIT.usage,
      code: 'IMPORT_LINE',
      names: ['line 3', 'body.status', 'nothing was imported'],
      human: true,
    });
    expect(error.evidence).toEqual({ line: 3, cause: 'INVALID_BODY' });
  });

  it('a reserved type on line 1 -> IMPORT_LINE (exit 2) whose cause is RESERVED_TYPE', async () => {
    const file = join(tmp.dir, 'legacy-treasury.jsonl');
    const credits = ['t0', 't1'].map((id) => ({ type: 'treasury_credit', ...entryBody(id) }));
    writeFileSync(file, credits.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const error = await expectRefused(['import', file, '--scroll', 'treasury'], {
      status: EXIT.usage,
      code: 'IMPORT_LINE',
      names: ['line 1', 'treasury_credit', 'nothing was imported'],
      human: true,
    });
    expect(error.evidence).toEqual({ line: 1, cause: 'RESERVED_TYPE' });
    expect(error.hint).toContain('Treasury engine');
    expect(vmJson<{ size: number }[]>(['root', 'treasury'], { data })[0]).toMatchObject({ size: 0 });
  });

  it('invalid JSON on line 3 -> IMPORT_LINE naming line 3', async () => {
    const file = join(tmp.dir, 'legacy-json-3.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify(drill(0))}\n${JSON.stringify(drill(1))}\n{"type": "security_drill_run",\n`,
    );
    const error = await expectRefused(['import', file, '--scroll', 'drills'], {
      status: EXIT.usage,
      code: 'IMPORT_LINE',
      names: ['line 3'],
    });
    expect(error.evidence).toEqual({ line: 3, cause: 'INVALID_JSON' });
  });

  it('a line without "type" and no --type -> IMPORT_LINE naming the line and --type', async () => {
    const file = join(tmp.dir, 'legacy-untyped.jsonl');
    const untyped: Record<string, unknown> = drill(2);
    delete untyped.type;
    writeFileSync(file, `${JSON.stringify(drill(0))}\n${JSON.stringify(untyped)}\n`);
    const error = await expectRefused(['import', file, '--scroll', 'drills'], {
      status: EXIT.usage,
      code: 'IMPORT_LINE',
      names: ['line 2', '"type"'],
    });
    expect(error.hint).toContain('--type');
  });

  it('import into an unknown scroll, or of a missing file', async () => {
    const file = join(tmp.dir, 'legacy-ok.jsonl');
    writeFileSync(file, `${JSON.stringify(drill(0))}\n`);
    const missing = join(tmp.dir, 'no-such.jsonl');
    await Promise.all([
      expectRefused(['import', file, '--scroll', 'drill'], {
        status: EXIT.notFound,
        code: 'UNKNOWN_SCROLL',
        names: ['"drill"'],
      }),
      expectRefused(['import', missing, '--scroll', 'drills'], {
        status: EXIT.io,
        code: 'IO_ERROR',
        names: [missing],
        hint: false,
      }),
    ]);
  });
});

describe('a data directory that cannot be used', () => {
  it('missing data dir -> DATA_DIR_MISSING (exit 3), and nothing is created', async () => {
    const missing = join(tmp.dir, 'no-such-data');
    await Promise.all(
      [
        ['root'],
        ['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody('x'))],
      ].map((args) =>
        expectRefused(
          args,
          { status: EXIT.notFound, code: 'DATA_DIR_MISSING', names: [missing], human: true },
          {},
          missing,
        ),
      ),
    );
    expect(snapshotDataDir(missing)).toEqual({});
  });

  it('a regular file as data dir -> DATA_DIR_UNREADABLE (exit 5)', async () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    await Promise.all([
      expectRefused(
        ['root'],
        { status: EXIT.io, code: 'DATA_DIR_UNREADABLE', names: [file, 'not a directory'] },
        {},
        file,
      ),
      expectRefused(
        ['emit', 'observability', 'obs_metric_snapshot', '--body', JSON.stringify(entryBody('x'))],
        { status: EXIT.io, code: 'DATA_DIR_UNREADABLE', names: [file] },
        {},
        file,
      ),
    ]);
    expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
  });

  it('an empty directory that was never initialized -> NOT_INITIALIZED (exit 3)', async () => {
    const empty = join(tmp.dir, 'empty-data');
    mkdirSync(empty);
    await expectRefused(
      ['root'],
      { status: EXIT.notFound, code: 'NOT_INITIALIZED', names: ['vaultmesh.toml'] },
      {},
      empty,
    );
    expect(snapshotDataDir(empty)).toEqual({});
  });

  it('an invalid vaultmesh.toml value -> INVALID_CONFIG (exit 2) naming the key; nothing written', async () => {
    const original = readFileSync(join(data, 'vaultmesh.toml'), 'utf8');
    const cases: [string, string | undefined][] = [
      [original.replace('lock_timeout_ms = 15000', 'lock_timeout_ms = 5'), 'ledger.lock_timeout_ms'],
      [original.replace('name = "vault-01"', 'name = "Vault 01"'), 'node.name'],
      [`${original}\n[[[ not toml\n`, undefined],
    ];
    await Promise.all(
      cases.map(async ([text, key], i) => {
        // Each case on its own copy of the data directory.
        const copy = join(tmp.dir, `bad-config-${i}`);
        cpSync(data, copy, { recursive: true });
        const config = join(copy, 'vaultmesh.toml');
        expect(text).not.toBe(original);
        writeFileSync(config, text);
        const args = [
          'emit',
          'observability',
          'obs_metric_snapshot',
          '--body',
          JSON.stringify(entryBody('x')),
        ];
        if (key === undefined) {
          await expectRefused(
            args,
            { status: EXIT.usage, code: 'INVALID_CONFIG', names: [config, 'TOML'], hint: false },
            {},
            copy,
          );
        } else {
          const error = await expectRefused(
            args,
            { status: EXIT.usage, code: 'INVALID_CONFIG', names: [config, key], human: key === 'node.name' },
            {},
            copy,
          );
          expect(error.evidence).toEqual({ file: config, key });
        }
        expect(
          readFileSync(join(copy, OBSERVABILITY_FILE)).equals(readFileSync(join(data, OBSERVABILITY_FILE))),
        ).toBe(true);
      }),
    );
  });
});

describe('usage errors from the argument parser', () => {
  it('an unknown command, a missing --body or a bad --format exit 2 without touching anything', async () => {
    const before = snapshotDataDir(data);
    const calls = [
      ['frobnicate'],
      ['emit', 'observability', 'obs_metric_snapshot'],
      ['--format', 'xml', 'root'],
    ];
    const results = await vmAll(calls, { data });
    results.forEach((result, i) => {
      expect(result.status, calls[i]!.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error\[USAGE\]: .+\n {2}hint: .*vm --help/);
    });
    const asJson = await vmAll([['--format', 'json', 'emit', 'observability', 'obs_metric_snapshot']], {
      data,
    });
    expect(jsonError(asJson[0]!)).toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('--body'),
    });
    // CSV is for listings: a write asked for it is refused before it writes, not after.
    const [csvWrite] = await vmAll(
      [['--format', 'csv', 'emit', 'observability', 'obs_metric_snapshot', '--body', '{"n":1}']],
      { data },
    );
    expect(csvWrite!.status).toBe(2);
    expect(csvWrite!.stderr).toMatch(/^error\[USAGE\]: this command has no list result to write as CSV\n/);
    expect(snapshotDataDir(data)).toEqual(before);
    // And after all of the above, `vm root` is unchanged and the scroll still verifies with its two receipts.
    const [root, verify] = await vmAll(
      [
        ['--format', 'json', 'root'],
        ['verify', 'observability'],
      ],
      { data },
    );
    expect(root.stdout).toBe(rootBefore);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('ok   observability: 2 receipts');
  });
});
