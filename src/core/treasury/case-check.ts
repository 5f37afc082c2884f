/**
 * What an auditor holding a settlement's case directory can check without the node: that the
 * contract is the one the receipt names, that SIGNATURES.json is the manifest it hashes, that every
 * required signer's Ed25519 signature holds over the approval statement, and that the entries and
 * net flow the receipt applied are the contract's. The receipt itself comes from PROOF.json, whose
 * inclusion under a signed checkpoint is checked by the bundle verifier first.
 */
import { canonicalJson, type JsonValue } from '../canonical.js';
import type { Receipt } from '../receipt.js';
import { settlementBody, settlementContract, type SignatureRecord } from '../scrolls/treasury.js';
import { approvalStatement, contractHash, signatureFields, signatureHolds } from './contract.js';
import { manifestHash, netFlow } from './rules.js';

export interface CaseCheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

interface Manifest {
  settlement_id?: unknown;
  contract_hash?: unknown;
  signatures?: unknown;
}

const sameSignatures = (a: readonly SignatureRecord[], b: readonly SignatureRecord[]) =>
  canonicalJson(a.map(signatureFields) as unknown as JsonValue) ===
  canonicalJson(b.map(signatureFields) as unknown as JsonValue);

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Every check of the case's files against the completed settlement receipt, in order. */
export function checkSettlementCase(
  receipt: Receipt,
  files: { contract: string; signatures: string },
): CaseCheckResult[] {
  const results: CaseCheckResult[] = [];
  const note = (check: string, ok: boolean, detail: string) => results.push({ check, ok, detail });
  const body = settlementBody.safeParse(receipt.body);
  if (receipt.type !== 'treasury_settlement' || !body.success || body.data.status !== 'completed') {
    note('receipt', false, `seq ${receipt.seq} is a ${receipt.type}, not a completed treasury_settlement`);
    return results;
  }
  const completed = body.data;
  note('receipt', true, `settlement ${completed.settlement_id} completed at seq ${receipt.seq}`);

  const contract = settlementContract.safeParse(parsed(files.contract));
  if (!contract.success) {
    note('contract', false, 'contract.json is not a settlement contract');
  } else {
    const hash = contractHash(contract.data);
    note(
      'contract',
      hash === completed.contract_hash && contract.data.settlement_id === completed.settlement_id,
      hash === completed.contract_hash
        ? `contract.json hashes to the receipt's ${hash}`
        : `contract.json hashes to ${hash}, the receipt names ${completed.contract_hash}`,
    );
  }

  const manifest = parsed(files.signatures) as Manifest | undefined;
  const digest = manifestHash(files.signatures);
  const manifestSignatures = Array.isArray(manifest?.signatures)
    ? (manifest.signatures as SignatureRecord[])
    : [];
  note(
    'manifest',
    digest === completed.signatures_manifest_hash &&
      manifest?.contract_hash === completed.contract_hash &&
      sameSignatures(manifestSignatures, completed.signatures),
    digest === completed.signatures_manifest_hash
      ? `SIGNATURES.json is the manifest the receipt hashes (${digest})`
      : `SIGNATURES.json hashes to ${digest}, the receipt names ${completed.signatures_manifest_hash}`,
  );

  const statement = approvalStatement(completed.contract_hash);
  const forged = completed.signatures.filter((s) => !signatureHolds(s, statement));
  note(
    'signatures',
    forged.length === 0,
    forged.length === 0
      ? `${completed.signatures.length} Ed25519 signature(s) hold over "${statement}"`
      : `not a valid signature: ${forged.map((s) => s.kid).join(', ')}`,
  );

  if (contract.success) {
    const signers = completed.signatures.map((s) => s.signer);
    const required = contract.data.requires_signatures;
    const missing = required.filter((d) => !signers.includes(d));
    const extra = signers.filter((d, i) => !required.includes(d) || signers.indexOf(d) !== i);
    note(
      'signers',
      missing.length === 0 && extra.length === 0,
      missing.length === 0 && extra.length === 0
        ? `each required signer signed once: ${required.join(', ')}`
        : `missing ${missing.join(', ') || 'none'}; not required or repeated ${extra.join(', ') || 'none'}`,
    );
    const applied = completed.entries.map(({ balance_after: _, ...entry }) => entry);
    const flow = netFlow(contract.data);
    const entriesMatch =
      canonicalJson(applied as unknown as JsonValue) ===
      canonicalJson(contract.data.entries as unknown as JsonValue);
    const flowMatches = canonicalJson(flow) === canonicalJson(completed.net_flow);
    note(
      'entries',
      entriesMatch && flowMatches,
      entriesMatch && flowMatches
        ? `the receipt applied the contract's ${applied.length} entries; net flow ${Object.entries(flow)
            .map(([a, f]) => `${a} ${f}`)
            .join(', ')} ${contract.data.currency}`
        : `the receipt's ${entriesMatch ? 'net flow' : 'entries'} differ from the contract's`,
    );
  }
  return results;
}
