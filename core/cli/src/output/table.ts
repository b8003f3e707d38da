/** A cell: absent values print as an empty cell, arrays as comma-separated lists. */
export type Cell = string | number | boolean | null | undefined | string[];

function text(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (Array.isArray(cell)) return cell.join(', ');
  return String(cell);
}

/** An aligned table as pks prints them: a header row, columns separated by two spaces, no borders. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((row) => row.map(text));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

/** `Label:  value` lines with the values aligned, as `pks cluster` prints a cluster. */
export function keyValues(pairs: Array<[string, Cell]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${text(v)}`.trimEnd()).join('\n')}\n`;
}
