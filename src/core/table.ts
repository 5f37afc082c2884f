/** Plain-text tables for human output, and RFC 4180 CSV for spreadsheets and scripts. */

/** A list result: a header row and one row of cells per item. */
export interface TableRows {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Columns padded to their widest cell, the last left ragged. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export function textTable(rows: TableRows): string {
  return table([rows.columns.map((c) => c.toUpperCase()), ...rows.rows]);
}

/**
 * RFC 4180: CRLF line ends; a field holding a comma, a quote, CR or LF is quoted, its quotes doubled.
 * Cells are never altered otherwise (a leading `-` is a negative amount, not a formula).
 */
export function csv(rows: TableRows): string {
  const field = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  return [rows.columns, ...rows.rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
