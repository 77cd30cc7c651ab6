/**
 * The column layout of docker's tables: Go's `text/tabwriter` with minwidth 10, tabwidth 1,
 * padding 3 and spaces (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`). A cell followed by a
 * tab is padded to its column's width; the last cell of a line is printed as it is.
 */

/** Options of {@link formatTable}; the defaults are docker's. */
export interface TabWriterOptions {
  minWidth?: number;
  padding?: number;
}

/** Display width of a cell: code points, which is what tabwriter counts for UTF-8 text. */
function width(cell: string): number {
  return Array.from(cell).length;
}

/**
 * Lays out rows of cells. Like tabwriter, a column block is a run of consecutive lines
 * that have a cell in that column; widths are computed per block.
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  options: TabWriterOptions = {},
): string {
  const minWidth = options.minWidth ?? 10;
  const padding = options.padding ?? 3;
  const widths = rows.map((row) => row.map(() => 0));
  const columns = Math.max(0, ...rows.map((r) => r.length));
  // Column c (not the last cell of a line) is aligned over each maximal run of lines that have
  // a terminated cell in column c, the way tabwriter forms column blocks.
  for (let c = 0; c < columns - 1; c++) {
    let start = 0;
    while (start < rows.length) {
      if ((rows[start]?.length ?? 0) <= c + 1) {
        start++;
        continue;
      }
      let end = start;
      let max = 0;
      while (end < rows.length && (rows[end]?.length ?? 0) > c + 1) {
        max = Math.max(max, width(rows[end]?.[c] ?? ''));
        end++;
      }
      const w = Math.max(minWidth, max + padding);
      for (let r = start; r < end; r++) {
        const rowWidths = widths[r];
        if (rowWidths !== undefined) rowWidths[c] = w;
      }
      start = end;
    }
  }
  let out = '';
  rows.forEach((row, r) => {
    row.forEach((cell, c) => {
      if (c === row.length - 1) out += cell;
      else out += cell + ' '.repeat(Math.max(0, (widths[r]?.[c] ?? 0) - width(cell)));
    });
    out += '\n';
  });
  return out;
}

/** Splits tab-separated lines (what a `table` template renders) into cells and lays them out. */
export function alignTabs(text: string, options?: TabWriterOptions): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return formatTable(
    lines.map((l) => l.split('\t')),
    options,
  );
}
