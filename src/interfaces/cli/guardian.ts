/** `vm guardian ...`: anchor cycles, their status, pending upgrades and re-verification. */
import { parseDuration } from '../../core/duration.js';
import { table } from '../../core/table.js';
import { anchorStatus, upgradeAnchors, verifyAnchor } from '../../engines/guardian/anchors.js';
import { configuredBackends, guardianConfig } from '../../engines/guardian/config.js';
import { anchorReceipts, runAnchorCycle, type CycleResult } from '../../engines/guardian/cycle.js';
import { resolveDataDir } from '../../ledger/data-dir.js';
import { Ledger } from '../../ledger/ledger.js';
import { parseCount, parseTime } from '../params.js';
import type { GlobalOptions } from './main.js';
import { emitResult } from './output.js';

/** Exit statuses of a cycle: a divergence is tampering (4); some backends failing is partial (8). */
export const CYCLE_EXIT: Record<CycleResult['outcome'], number> = {
  anchored: 0,
  partial: 8,
  failed: 5,
  diverged: 4,
};

async function withGuardian<T>(
  g: GlobalOptions,
  work: (ledger: Ledger, context: ReturnType<typeof guardianContext>) => Promise<T>,
): Promise<T> {
  const ledger = Ledger.open(resolveDataDir(g.data));
  try {
    return await work(ledger, guardianContext(ledger));
  } finally {
    await ledger.close();
  }
}

function guardianContext(ledger: Ledger) {
  const config = guardianConfig(ledger);
  return { config, backends: configuredBackends(ledger, config, () => new Date()) };
}

function cycleText(r: CycleResult): string {
  if (r.outcome === 'diverged') {
    return [
      'DIVERGENCE: not anchored — these scrolls no longer extend what was anchored:',
      ...r.divergences.map((d) => `  ${d.scroll}: ${d.reason} (guardian seq ${d.seq})`),
      'run vm verify to find the altered lines; restore the scrolls from a backup or a peer',
    ].join('\n');
  }
  return [
    `${r.outcome}: ${r.anchor_id} ${r.combined_root} over ${r.heads.length} scrolls`,
    ...r.successes.map((s) => `  ok    ${s.backend} (${s.kind}) ${s.status}${s.time ? ` at ${s.time}` : ''}`),
    ...r.failures.map(
      (f) => `  FAIL  ${f.backend} (${f.kind}) after ${f.attempts} attempts: ${f.code}: ${f.error}`,
    ),
  ].join('\n');
}

export async function anchorNow(
  g: GlobalOptions,
  o: { scroll?: string[]; backend?: string[] },
): Promise<void> {
  await withGuardian(g, async (ledger, { config, backends }) => {
    const result = await runAnchorCycle(ledger, config, backends, {
      ...(o.scroll ? { scrolls: o.scroll } : {}),
      ...(o.backend ? { backends: o.backend } : {}),
    });
    emitResult(g.format, result, cycleText);
    process.exitCode = CYCLE_EXIT[result.outcome];
  });
}

export async function run(g: GlobalOptions, o: { every: string }): Promise<void> {
  const everyMs = parseDuration(o.every, '--every');
  await withGuardian(g, async (ledger, { config, backends }) => {
    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      wake?.();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    while (!stopped) {
      const result = await runAnchorCycle(ledger, config, backends);
      emitResult(g.format, { at: new Date().toISOString(), ...result }, cycleText);
      process.exitCode = CYCLE_EXIT[result.outcome];
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs).unref();
      });
    }
  });
}

export async function status(g: GlobalOptions): Promise<void> {
  await withGuardian(g, async (ledger, { config, backends }) => {
    const rows = anchorStatus(ledger, config, backends, new Date());
    emitResult(g.format, rows, (list) =>
      table([
        ['BACKEND', 'KIND', 'LAST ANCHOR', 'AGE', 'STATUS', 'NOTE'],
        ...list.map((r) => [
          r.backend,
          r.kind,
          r.last_anchor ?? '-',
          r.age_seconds === null ? '-' : `${r.age_seconds}s`,
          r.status ?? 'never',
          [r.stale ? 'STALE' : '', r.last_failure ? `last attempt failed: ${r.last_failure.code}` : '']
            .filter(Boolean)
            .join('; '),
        ]),
      ]),
    );
  });
}

export async function anchors(
  g: GlobalOptions,
  o: { backend?: string; since?: string; limit: string },
): Promise<void> {
  await withGuardian(g, async (ledger) => {
    const receipts = anchorReceipts(ledger, {
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.since ? { from: parseTime(o.since, '--since') } : {}),
      limit: parseCount(o.limit, '--limit'),
    });
    emitResult(g.format, receipts, (rows) =>
      rows.length === 0
        ? 'no anchor events'
        : table([
            ['SEQ', 'TS', 'TYPE', 'ANCHOR', 'BACKEND', 'DETAIL'],
            ...rows.map((r) => [
              String(r.seq),
              r.ts,
              r.type,
              String(r.body.anchor_id ?? ''),
              String(r.body.backend ?? r.body.scroll ?? ''),
              String(r.body.status ?? r.body.error ?? r.body.reason ?? ''),
            ]),
          ]),
    );
  });
}

export async function upgrade(g: GlobalOptions): Promise<void> {
  await withGuardian(g, async (ledger, { config, backends }) => {
    const upgraded = await upgradeAnchors(ledger, config, backends);
    emitResult(g.format, upgraded, (rows) =>
      rows.length === 0
        ? 'nothing to upgrade (no pending evidence completed yet)'
        : rows
            .map((r) => `upgraded ${r.anchor_id} ${r.backend}: ${r.status} (guardian seq ${r.seq})`)
            .join('\n'),
    );
  });
}

export async function verify(g: GlobalOptions, id: string | undefined): Promise<void> {
  await withGuardian(g, async (ledger, { config, backends }) => {
    const result = await verifyAnchor(ledger, config, backends, id);
    emitResult(g.format, result, (r) =>
      [
        `${r.ok ? 'ok' : 'FAIL'}: ${r.anchor_id} ${r.combined_root}`,
        ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(22)} ${c.detail}`),
      ].join('\n'),
    );
    if (!result.ok) process.exitCode = 4;
  });
}
