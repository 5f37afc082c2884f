/**
 * The Drills engine through the real CLI: plan, run every stage, seal, query — and the refusals,
 * races and crashes an operator can meet on the way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VM_BIN,
  assertBuilt,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  vm,
  vmAsync,
  vmJson,
  type VmResult,
} from '../helpers/vm.js';

const PROMPT = 'IoT device bridging into OT network with weak detection';
const STAGES = ['stage-1-iot-wireless-security', 'stage-2-ot-ics-security', 'stage-3-detection-defense-ir'];
const DRILLS_FILE = 'receipts/drills/drill_runs.jsonl';

interface Contract {
  id: string;
  stages: { id: string; order: number; skill: string; workflow: string; role: string }[];
  tags: string[];
}
interface SealOutcome {
  receipt: { seq: number; type: string; tags: string[]; body: Record<string, unknown> };
  caseDir: string;
  already: boolean;
}

let tmp: ReturnType<typeof makeTempDir>;
let data: string;
let work: string;

const drills = (args: readonly string[]) => vm(['drills', ...args], { data, cwd: work });
const drillsJson = <T>(args: readonly string[]) => vmJson<T>(['drills', ...args], { data, cwd: work });
const failure = (args: readonly string[]): { result: VmResult; code: string; message: string } => {
  const result = vm(['--format', 'json', 'drills', ...args], { data, cwd: work });
  const error = jsonError(result);
  return { result, code: error.code, message: error.message };
};

/** Plans and inits drill `id`, completes every stage with one output, and returns the contract. */
function runDrill(id: string, prompt = PROMPT, extra: readonly string[] = []): Contract {
  const plan = drillsJson<{ contract: Contract }>([
    'plan',
    prompt,
    '--id',
    id,
    '-o',
    `${id}.json`,
    '--init',
    ...extra,
  ]);
  writeFileSync(join(work, 'findings.md'), `# findings of ${id}\n`);
  for (const stage of plan.contract.stages) {
    drillsJson(['complete-stage', stage.id, '--drill', id, '--outputs', 'findings.md']);
  }
  return plan.contract;
}

beforeAll(() => {
  assertBuilt();
  tmp = makeTempDir('drills');
  data = join(tmp.dir, 'data');
  work = join(tmp.dir, 'work');
  initNode(data);
  mkdirSync(work);
});

afterAll(() => tmp.remove());

describe('vm drills plan', () => {
  it('routes the prompt to runbooks, writes contract.json and explains each stage', () => {
    const result = drills(['plan', PROMPT, '--explain', '--id', 'drill-plan']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('why these stages:');
    expect(result.stdout).toMatch(/iot-wireless-security \(primary\): matched "iot"/);
    const contract = JSON.parse(readFileSync(join(work, 'contract.json'), 'utf8')) as Contract;
    expect(contract.id).toBe('drill-plan');
    expect(contract.stages.map((s) => s.id)).toEqual(STAGES);
    expect(contract.stages.map((s) => s.role)).toEqual(['primary', 'supporting', 'supporting']);
    expect(contract.tags).toContain('drill');
    // The same prompt plans the same stages: routing is deterministic.
    const again = drillsJson<{ contract: Contract }>([
      'plan',
      PROMPT,
      '--id',
      'drill-plan',
      '-o',
      'again.json',
    ]);
    expect(again.contract.stages).toEqual(contract.stages);
  });

  it('refuses to overwrite a contract without --force, and a prompt no runbook matches', () => {
    const exists = failure(['plan', PROMPT, '--id', 'drill-plan']);
    expect(exists.result.status).toBe(2);
    expect(exists.message).toContain('already exists');
    const none = failure(['plan', 'lunch menu for friday', '-o', 'none.json']);
    expect(none.code).toBe('NO_ROUTE');
    expect(existsSync(join(work, 'none.json'))).toBe(false);
  });

  it('checks a hand-written contract and names the field at fault', () => {
    const good = {
      id: 'drill-hand',
      title: 'Tabletop: ransomware on the file server',
      stages: [
        { id: 'brief', order: 1, skill: 'detection-defense-ir', workflow: 'Tabletop', role: 'primary' },
        {
          id: 'debrief',
          order: 2,
          skill: 'detection-defense-ir',
          workflow: 'Lessons learned',
          role: 'supporting',
        },
      ],
    };
    writeFileSync(join(work, 'hand.json'), JSON.stringify(good));
    expect(drills(['plan', '--contract', 'hand.json']).status).toBe(0);
    const broken = { ...good, stages: [{ ...good.stages[0], role: 'lead' }] };
    writeFileSync(join(work, 'broken.json'), JSON.stringify(broken));
    const bad = failure(['plan', '--contract', 'broken.json']);
    expect(bad.code).toBe('INVALID_CONTRACT');
    expect(bad.message).toContain('contract.stages.0.role');
    const traversal = { ...good, id: '../../etc' };
    writeFileSync(join(work, 'traversal.json'), JSON.stringify(traversal));
    expect(failure(['init', 'traversal.json']).code).toBe('INVALID_ID');
    const twice = { ...good, stages: [good.stages[0], { ...good.stages[1], id: 'brief' }] };
    writeFileSync(join(work, 'twice.json'), JSON.stringify(twice));
    expect(failure(['init', 'twice.json']).message).toContain('used twice');
  });
});

describe('the drill runner', () => {
  beforeAll(() => {
    drillsJson(['plan', PROMPT, '--id', 'drill-run', '-o', 'run.json']);
    drillsJson(['init', 'run.json']);
  });

  it('next starts the first stage and shows its checklist', () => {
    const next = drillsJson<{ stage: { id: string; actions: string[]; expected_outputs: string[] } }>([
      'next',
      '--drill',
      'drill-run',
    ]);
    expect(next.stage.id).toBe(STAGES[0]);
    expect(next.stage.actions.length).toBeGreaterThan(0);
    expect(next.stage.expected_outputs.length).toBeGreaterThan(0);
    const state = JSON.parse(
      readFileSync(join(data, 'runs/drills/drill-run/drill_state.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(state).toMatchObject({ drill_id: 'drill-run', status: 'in_progress' });
  });

  it('refuses out-of-order, unknown and repeated stages, and files that do not exist', () => {
    const early = failure(['complete-stage', STAGES[1]!, '--drill', 'drill-run']);
    expect(early.code).toBe('ILLEGAL_TRANSITION');
    expect(early.message).toContain(`${STAGES[0]} comes first`);
    expect(failure(['complete-stage', 'stage-9', '--drill', 'drill-run']).code).toBe('UNKNOWN_STAGE');
    expect(failure(['complete-stage', STAGES[0]!, '--drill', 'drill-run', '--outputs', 'nope.md']).code).toBe(
      'FILE_MISSING',
    );
    writeFileSync(join(work, 'inventory.yaml'), 'devices: []\n');
    drillsJson(['complete-stage', STAGES[0]!, '--drill', 'drill-run', '--outputs', 'inventory.yaml']);
    const twice = failure(['complete-stage', STAGES[0]!, '--drill', 'drill-run']);
    expect(twice.code).toBe('ILLEGAL_TRANSITION');
    expect(twice.message).toContain('already completed');
    expect(failure(['seal', 'drill-run']).code).toBe('RUN_NOT_FINISHED');
  });

  it('asks which drill when several are open, and refuses ids that are not ids', () => {
    drillsJson(['plan', PROMPT, '--id', 'drill-other', '-o', 'other.json', '--init']);
    const ambiguous = failure(['next']);
    expect(ambiguous.code).toBe('AMBIGUOUS_RUN');
    expect(ambiguous.message).toContain('drill-other');
    expect(failure(['status', '--drill', '../../keys']).code).toBe('INVALID_ID');
    expect(failure(['status', '--drill', 'drill-nope']).code).toBe('UNKNOWN_RUN');
    const aborted = drillsJson<{ status: string }>([
      'abort',
      '--drill',
      'drill-other',
      '--reason',
      'scope cut',
    ]);
    expect(aborted.status).toBe('aborted');
    expect(failure(['abort', '--drill', 'drill-other', '--reason', 'again']).code).toBe('ILLEGAL_TRANSITION');
    expect(drillsJson<{ already: boolean }>(['seal', 'drill-other']).already).toBe(false);
  });

  it('a state file edited by hand is refused, not trusted', () => {
    drillsJson(['plan', PROMPT, '--id', 'drill-forged', '-o', 'forged.json', '--init']);
    const file = join(data, 'runs/drills/drill-forged/drill_state.json');
    const state = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...state, status: 'completed' }));
    const forged = failure(['seal', 'drill-forged']);
    expect(forged.code).toBe('INVALID_STATE');
    expect(forged.message).toContain('does not match its stages');
    writeFileSync(file, JSON.stringify({ ...state, stages: 'none' }));
    expect(failure(['status', '--drill', 'drill-forged']).message).toContain('stages');
    writeFileSync(file, JSON.stringify(state));
    drillsJson(['abort', '--drill', 'drill-forged', '--reason', 'test done']);
  });

  it('two processes completing the same stage: one wins, the other is refused', async () => {
    const id = STAGES[1]!;
    const results = await Promise.all(
      [0, 1].map(() =>
        vmAsync(['--format', 'json', 'drills', 'complete-stage', id, '--drill', 'drill-run'], {
          data,
          cwd: work,
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([0, 2]);
    expect(jsonError(results.find((r) => r.status === 2)!).code).toBe('ILLEGAL_TRANSITION');
  });
});

describe('vm drills seal', () => {
  let sealed: SealOutcome;
  let contract: Contract;

  beforeAll(() => {
    contract = runDrill('drill-seal');
    sealed = drillsJson<SealOutcome>(['seal', 'drill-seal']);
  });

  it('writes the case directory that sha256sum -c accepts, with the files byte for byte', () => {
    const dir = join(data, 'cases/drills/drill-seal');
    expect(sealed.caseDir).toBe(dir);
    const check = spawnSync('sha256sum', ['-c', 'ARTIFACTS.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(2 + STAGES.length);
    expect(readFileSync(join(dir, 'contract.json'), 'utf8')).toBe(
      readFileSync(join(work, 'drill-seal.json'), 'utf8'),
    );
    for (const stage of STAGES) {
      expect(readFileSync(join(dir, 'outputs', stage, 'findings.md'), 'utf8')).toBe(
        '# findings of drill-seal\n',
      );
    }
    const state = JSON.parse(readFileSync(join(dir, 'drill_state.json'), 'utf8')) as { status: string };
    expect(state.status).toBe('completed');
    expect(existsSync(join(data, 'runs/drills/drill-seal'))).toBe(false);
    expect(vm(['verify-bundle', join(dir, 'PROOF.json')], { data }).status).toBe(0);
  });

  it("derives the seed's drill receipt from contract, state and manifest", () => {
    const body = sealed.receipt.body;
    expect(sealed.receipt.type).toBe('security_drill_run');
    expect(body).toMatchObject({
      drill_id: 'drill-seal',
      prompt: PROMPT,
      status: 'completed',
      stages_total: 3,
      stages_completed: 3,
      domains: contract.stages.map((s) => s.skill),
      workflows: contract.stages.map((s) => s.workflow),
      proof_path: 'cases/drills/drill-seal/PROOF.json',
      artifacts_manifest: 'cases/drills/drill-seal/ARTIFACTS.sha256',
    });
    expect(body.root_hash).toMatch(/^blake3:[0-9a-f]{64}$/);
    expect(sealed.receipt.tags).toEqual(contract.tags);
    expect(vm(['verify', 'drills'], { data }).status).toBe(0);
  });

  it('sealing again is a no-op, and a sealed id cannot be started again', () => {
    const before = readFileSync(join(data, DRILLS_FILE), 'utf8');
    expect(drillsJson<SealOutcome>(['seal', 'drill-seal']).already).toBe(true);
    expect(readFileSync(join(data, DRILLS_FILE), 'utf8')).toBe(before);
    expect(failure(['init', 'drill-seal.json']).code).toBe('RUN_EXISTS');
  });

  it('refuses to seal an output that changed after it was attached', () => {
    runDrill('drill-changed');
    writeFileSync(join(data, 'runs/drills/drill-changed/outputs', STAGES[0]!, 'findings.md'), 'edited\n');
    const changed = failure(['seal', 'drill-changed']);
    expect(changed.code).toBe('ARTIFACT_MISMATCH');
    expect(changed.result.status).toBe(4);
    expect(existsSync(join(data, 'cases/drills/drill-changed'))).toBe(false);
    rmSync(join(data, 'runs/drills/drill-changed/outputs', STAGES[0]!, 'findings.md'));
    const gone = failure(['seal', 'drill-changed']);
    expect(gone.code).toBe('ARTIFACT_MISMATCH');
    expect(readdirSync(join(data, 'cases/drills'))).not.toContain('drill-changed');
  });

  it('two seals at once append one receipt', async () => {
    runDrill('drill-race');
    const results = await Promise.all(
      [0, 1].map(() => vmAsync(['--format', 'json', 'drills', 'seal', 'drill-race'], { data, cwd: work })),
    );
    expect(results.map((r) => r.status)).toEqual([0, 0]);
    const outcomes = results.map((r) => JSON.parse(r.stdout) as SealOutcome);
    expect(outcomes.map((o) => o.already).sort()).toEqual([false, true]);
    expect(
      readReceipts(join(data, DRILLS_FILE)).filter(
        (r) => (r.body as { drill_id: string }).drill_id === 'drill-race',
      ),
    ).toHaveLength(1);
  });

  it('a seal killed at any point finishes on the next run, with one receipt', async () => {
    for (const [i, delayMs] of [60, 120, 180, 240, 300].entries()) {
      const id = `drill-crash-${i}`;
      runDrill(id);
      const child = spawn(process.execPath, [VM_BIN, '--data', data, 'drills', 'seal', id], {
        cwd: work,
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      const resumed = vm(['--format', 'json', 'drills', 'seal', id], { data, cwd: work });
      expect(resumed.status, resumed.stderr).toBe(0);
      const receipts = readReceipts(join(data, DRILLS_FILE)).filter(
        (r) => (r.body as { drill_id: string }).drill_id === id,
      );
      expect(receipts).toHaveLength(1);
      const dir = join(data, 'cases/drills', id);
      expect(spawnSync('sha256sum', ['-c', '--quiet', 'ARTIFACTS.sha256'], { cwd: dir }).status).toBe(0);
      expect(vm(['verify-bundle', join(dir, 'PROOF.json')], { data }).status).toBe(0);
      expect(readdirSync(join(data, 'cases/drills')).filter((n) => n.startsWith('.'))).toEqual([]);
    }
    expect(vm(['verify', 'drills'], { data }).status).toBe(0);
  });
});

describe('vm drills query', () => {
  beforeAll(() => {
    runDrill('drill-k8s', 'exposed kubernetes dashboard in our EKS cluster', ['--severity', 'high']);
    drillsJson(['seal', 'drill-k8s']);
  });

  const ids = (args: readonly string[]) =>
    drillsJson<{ body: { drill_id: string } }[]>(['query', ...args]).map((r) => r.body.drill_id);

  it("filters by the seed's status, domain, date range and tags", () => {
    expect(ids(['--domain', 'kubernetes-security'])).toEqual(['drill-k8s']);
    expect(ids(['--domain', 'ot-ics-security'])).toContain('drill-seal');
    expect(ids(['--domain', 'ot-ics-security'])).not.toContain('drill-k8s');
    expect(ids(['--status', 'aborted'])).toEqual(['drill-other']);
    expect(ids(['--severity', 'high'])).toEqual(['drill-k8s']);
    expect(ids(['--tag', 'kubernetes'])).toEqual(['drill-k8s']);
    const today = new Date().toISOString().slice(0, 10);
    expect(ids(['--from', today, '--to', today])).toContain('drill-k8s');
    expect(ids(['--to', '2000-01-01'])).toEqual([]);
    expect(ids(['--limit', '1'])).toHaveLength(1);
  });

  it('names the flag of a bad filter value', () => {
    const bad = failure(['query', '--status', 'done']);
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toContain('--status');
    expect(failure(['query', '--from', 'yesterday']).message).toContain('--from');
    expect(failure(['query', '--limit', '0']).message).toContain('--limit');
  });
});

describe('vm gate', () => {
  it('passes every registered engine', () => {
    const result = vm(['--format', 'json', 'gate']);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; engines: { engine: string; ok: boolean }[] };
    expect(report.engines.map((e) => e.engine)).toEqual(expect.arrayContaining(['drills', 'remembrancer']));
    expect(report.engines.every((e) => e.ok)).toBe(true);
  });

  it('refuses an engine that does not exist', () => {
    const result = vm(['gate', 'nope']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('drills');
  });
});
