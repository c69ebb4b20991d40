// Tables for people, fitted to the output width: columns that fit keep their natural width;
// when the table is too wide, the widest columns give first, wrapping their cells on word
// boundaries (a word is never broken; one wider than its column is cut with an ellipsis), or,
// for a column marked `truncate`, shortening each cell to one line with an ellipsis.
// Borders only; colour is the caller's business.
import Table from 'cli-table3';
import { visibleWidth } from './text.js';

export type Cell = string | number | null | undefined;

export interface Column {
  head: string;
  /** 'wrap' (default): cells wrap on word boundaries; 'truncate': one line, cut with an ellipsis. */
  overflow?: 'wrap' | 'truncate';
}

export interface TableOptions {
  /** The widest a line may be (Output.width). */
  width: number;
  /** A rule under the header only, none between rows, so a long list stays one screen. */
  compact?: boolean;
}

// Below this a truncated column says too little to be worth the cut.
const TRUNCATED_MIN = 12;
// The least a column keeps when even its longest word cannot fit: a few characters and '…'.
const SQUEEZED_MIN = 4;

const text = (cell: Cell): string => (cell === null || cell === undefined ? '' : String(cell));
const lineWidths = (value: string): number[] => value.split('\n').map(visibleWidth);
const wordWidths = (value: string): number[] => value.split(/\s+/).map(visibleWidth);

/**
 * Column widths between `floor` and `natural` summing to `available` (as browsers lay out an
 * automatic table): every column gets its floor, and the room left is shared in proportion to
 * what each column still wants, so a long title gains more than a short count.
 */
function shareWidths(natural: number[], floor: number[], available: number): number[] {
  const widths = [...floor];
  const wants = natural.map((width, i) => width - floor[i]);
  const wanted = wants.reduce((sum, want) => sum + want, 0);
  const spare = available - widths.reduce((sum, width) => sum + width, 0);
  if (spare <= 0 || wanted === 0) return widths;
  const shares = wants.map((want) => (want * spare) / wanted);
  shares.forEach((share, i) => (widths[i] += Math.floor(share)));
  // The columns that lost most to rounding down take the last few columns.
  let left = spare - shares.reduce((sum, share) => sum + Math.floor(share), 0);
  const byRemainder = shares.map((share, i) => [share - Math.floor(share), i]).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left === 0) break;
    if (widths[i] < natural[i]) {
      widths[i]++;
      left--;
    }
  }
  return widths;
}

/** The content width of each column so that the whole table fits `width` where it can. */
export function fitColumns(columns: Column[], rows: string[][], width: number): number[] {
  const cellsOf = (i: number) => [columns[i].head, ...rows.map((row) => row[i])];
  const natural = columns.map((_, i) => Math.max(1, ...cellsOf(i).flatMap(lineWidths)));
  // Each column has a one-character padding each side and a border on its left, plus one border.
  const available = width - (3 * columns.length + 1);
  if (natural.reduce((sum, w) => sum + w, 0) <= available) return natural;
  const wordFloor = columns.map((column, i) =>
    Math.min(natural[i], column.overflow === 'truncate' ? TRUNCATED_MIN : Math.max(...cellsOf(i).flatMap(wordWidths))),
  );
  // Truncated columns give first: the others keep their natural width when that leaves room.
  const truncatedGiveFirst = columns.map((column, i) => (column.overflow === 'truncate' ? wordFloor[i] : natural[i]));
  if (truncatedGiveFirst.reduce((sum, w) => sum + w, 0) <= available) return shareWidths(natural, truncatedGiveFirst, available);
  if (wordFloor.reduce((sum, w) => sum + w, 0) <= available) return shareWidths(natural, wordFloor, available);
  // Even the longest words do not fit: the columns with the longest words are cut down to a
  // common cap (their words get an ellipsis), so that short columns stay whole.
  return shareWidths(natural, capped(wordFloor, available), available);
}

/** `widths` with the widest capped, at the largest cap whose total fits `available`. */
function capped(widths: number[], available: number): number[] {
  const at = (cap: number) => widths.map((width) => Math.min(width, Math.max(SQUEEZED_MIN, cap)));
  const total = (cap: number) => at(cap).reduce((sum, width) => sum + width, 0);
  let low = 0;
  let high = Math.max(...widths);
  while (low < high) {
    const cap = Math.ceil((low + high) / 2);
    if (total(cap) <= available) low = cap;
    else high = cap - 1;
  }
  return at(low);
}

export function renderTable(head: Array<string | Column>, rows: Cell[][], options: TableOptions): string {
  const columns = head.map((column) => (typeof column === 'string' ? { head: column } : column));
  const cells = rows.map((row) => columns.map((_, i) => text(row[i])));
  const widths = fitColumns(columns, cells, options.width);
  const table = new Table({
    head: columns.map((column) => column.head),
    colWidths: widths.map((w) => w + 2),
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [] },
  });
  for (const row of cells) {
    table.push(row.map((cell, i) => (columns[i].overflow === 'truncate' ? { content: cell.split('\n')[0], wordWrap: false } : cell)));
  }
  const lines = table.toString().split('\n');
  if (!options.compact) return lines.join('\n');
  // The first rule inside the table is the one under the header; the rest separate rows.
  const underHeader = lines.findIndex((line) => line.startsWith('├'));
  return lines.filter((line, i) => !line.startsWith('├') || i === underHeader).join('\n');
}
