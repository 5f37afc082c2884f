/** The shape of a scroll registration, and the field schemas receipt bodies share. */
import { z } from 'zod';

export interface ReceiptTypeDefinition {
  readonly type: string;
  readonly description: string;
  /** Schema of the receipt body (the seeds' "payload fields"). Unknown extra fields are kept. */
  readonly body: z.ZodType<Record<string, unknown>>;
  /**
   * Set for types that only their engine may write (an approval, say): the generic append paths
   * (`vm emit`, the receipts API, MCP emit) refuse them, naming who writes them instead.
   */
  readonly reserved?: string;
}

export interface ScrollDefinition {
  /** Lower-case id used in envelopes, paths and commands, e.g. `treasury`. */
  readonly name: string;
  /** The seeds' name, e.g. `Treasury`, `PsiField`. */
  readonly title: string;
  readonly engineId: string;
  readonly description: string;
  /** JSONL path relative to the data directory. */
  readonly file: string;
  /** ROOT file path relative to the data directory. */
  readonly rootFile: string;
  readonly types: readonly ReceiptTypeDefinition[];
}

export function defineScroll(definition: ScrollDefinition): ScrollDefinition {
  return definition;
}

/** A body with no fixed fields yet: any JSON object. */
export const anyBody = z.record(z.string(), z.unknown());

export function bodyWith<T extends z.ZodRawShape>(shape: T) {
  return z.looseObject(shape);
}

export const hashRef = z
  .string()
  .regex(/^(blake3|sha256):[0-9a-f]{64}$/, 'expected blake3:<64 hex> or sha256:<64 hex>');
export const timestamp = z.iso.datetime({ offset: true });
export const did = z
  .string()
  .regex(/^did:vm:(node|human|agent|service|mesh):[A-Za-z0-9._:-]+$/, 'expected did:vm:<kind>:<id>');
export const identifier = z.string().min(1).max(256);
/** Money and other exact quantities: a non-negative decimal string, never a float. */
export const decimalAmount = z
  .string()
  .regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'expected a non-negative decimal string such as "12.50"');
export const currency = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{1,9}$/, 'expected a currency code such as EUR or BTC');
export const count = z.number().int().nonnegative();
export const stringList = z.array(z.string());
