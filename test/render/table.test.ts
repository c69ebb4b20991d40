// Tables and prose fitted to the output width: no line longer than the width, no word broken
// (a word wider than its column is cut with an ellipsis, never split across lines), counts in
// the right plural, and the width taken from the terminal, COLUMNS or 100.
import { describe, expect, it } from 'vitest';
import { fitColumns, renderTable } from '../../src/render/table.js';
import { ellipsis, outputWidth, plural, visibleWidth, wrapText } from '../../src/render/text.js';

const TITLES = [
  'ledger rows whose balance_after is not the previous balance_after plus the amount',
  'account, subscription and default payment method disagree, or no single default',
  'users without an account',
];
const ROWS = [
  ['invoice-billing-snapshot-missing', 'warning', '0 (1,204 suppressed)', TITLES[0]],
  ['payment-method-drift', 'error', '12', TITLES[1]],
  ['orphan-users', 'error', '0', TITLES[2]],
];
const HEAD = ['check', 'severity', 'count', 'title'];

const widest = (text: string) => Math.max(...text.split('\n').map(visibleWidth));

/** The text of each cell line of a rendered table, column by column. */
function cellLines(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.slice(1, -1).split('│').map((cell) => cell.trim()));
}

/** Every word printed in a table is a whole word of its input, or the start of one cut with '…'. */
function expectWholeWords(table: string, inputs: string[]): void {
  const words = new Set(inputs.flatMap((text) => text.split(/\s+/)));
  for (const row of cellLines(table)) {
    for (const cell of row) {
      for (const word of cell.split(/\s+/).filter(Boolean)) {
        if (words.has(word)) continue;
        expect(word, `"${word}" is not a whole word`).toMatch(/…$/);
        expect([...words].some((whole) => whole.startsWith(word.slice(0, -1))), `"${word}" cuts no input word`).toBe(true);
      }
    }
  }
}

describe('renderTable', () => {
  for (const width of [80, 100, 120]) {
    it(`fits ${width} columns, wrapping on word boundaries`, () => {
      const table = renderTable(HEAD, ROWS, { width });
      expect(widest(table)).toBeLessThanOrEqual(width);
      expectWholeWords(table, [...HEAD, ...ROWS.flat()]);
      // Wrapped, not cut: every word of every title is still there.
      const printed = cellLines(table).map((row) => row[3]).join(' ');
      for (const title of TITLES) for (const word of title.split(' ')) expect(printed).toContain(word);
    });

    it(`fits ${width} columns with titles shortened by an ellipsis, one line per row`, () => {
      const table = renderTable(['check', 'severity', 'count', { head: 'title', overflow: 'truncate' }], ROWS, { width, compact: true });
      expect(widest(table)).toBeLessThanOrEqual(width);
      expectWholeWords(table, [...HEAD, ...ROWS.flat()]);
      const titles = cellLines(table).slice(1).map((row) => row[3]).filter(Boolean);
      expect(titles).toHaveLength(ROWS.length);
      expect(titles[0]).toMatch(/…$/);
      expect(TITLES[0].startsWith(titles[0].slice(0, -1).trimEnd())).toBe(true);
    });
  }

  it('keeps the natural width of every column when the table fits', () => {
    const table = renderTable(['id', 'name'], [[1, 'free'], [2, null]], { width: 80 });
    expect(table.split('\n')).toEqual(['┌────┬──────┐', '│ id │ name │', '├────┼──────┤', '│ 1  │ free │', '├────┼──────┤', '│ 2  │      │', '└────┴──────┘']);
  });

  it('draws a compact table with one rule, under the header', () => {
    const lines = renderTable(HEAD, ROWS, { width: 200, compact: true }).split('\n');
    expect(lines.filter((line) => line.startsWith('├'))).toHaveLength(1);
    expect(lines[2]).toMatch(/^├─+┼/);
    expect(lines).toHaveLength(ROWS.length + 4);
  });

  it('gives room to the long column, not the short ones', () => {
    const [check, severity, , title] = fitColumns(HEAD.map((head) => ({ head })), ROWS, 80);
    expect(check).toBe('invoice-billing-snapshot-missing'.length);
    expect(severity).toBe('severity'.length);
    expect(title).toBeGreaterThan(15);
  });

  it('cuts a word wider than its column with an ellipsis instead of breaking it', () => {
    const long = 'x'.repeat(150);
    const table = renderTable(['key', 'value'], [['k', long]], { width: 80 });
    expect(widest(table)).toBe(80);
    const values = cellLines(table).slice(1).map((row) => row[1]);
    expect(values).toEqual([`${'x'.repeat(69)}…`]);
  });

  it('measures colour codes as nothing and wide characters as two columns', () => {
    const table = renderTable(['name'], [['\u001b[31m株式会社テスト\u001b[39m with a long name that must wrap somewhere']], { width: 30 });
    expect(widest(table)).toBeLessThanOrEqual(30);
  });
});

describe('wrapText', () => {
  it('wraps on spaces within the width, indenting what follows under the first line', () => {
    const lines = wrapText('  fix: igny8 repair orphan-users: attach to the account whose owner_id names them', 40);
    expect(lines).toEqual(['  fix: igny8 repair orphan-users: attach', '    to the account whose owner_id names', '    them']);
  });

  it('keeps the spacing between words and leaves a short line alone', () => {
    expect(wrapText('  user:152  role=owner', 80)).toEqual(['  user:152  role=owner']);
  });

  it('cuts only a word wider than the line, with an ellipsis', () => {
    expect(wrapText(`a ${'b'.repeat(30)} c`, 12)).toEqual(['a', `  ${'b'.repeat(9)}…`, '  c']);
  });

  it('takes a hanging indent for the lines after the first', () => {
    expect(wrapText('  billing       one two three', 22, { hang: ' '.repeat(16) })).toEqual(['  billing       one', '                two', '                three']);
  });
});

describe('text helpers', () => {
  it('plural: one and many, with thousands separators', () => {
    expect(plural(1, 'check')).toBe('1 check');
    expect(plural(0, 'check')).toBe('0 checks');
    expect(plural(1, 'error row')).toBe('1 error row');
    expect(plural(1204, 'warning row')).toBe('1,204 warning rows');
    expect(plural(2, 'batch', 'batches')).toBe('2 batches');
  });

  it('ellipsis: cuts to the width, the ellipsis included', () => {
    expect(ellipsis('abcdef', 4)).toBe('abc…');
    expect(ellipsis('abc', 4)).toBe('abc');
  });

  it('outputWidth: the terminal on a TTY, else COLUMNS, else 100', () => {
    expect(outputWidth({ isTTY: true, columns: 93 }, { COLUMNS: '120' })).toBe(93);
    expect(outputWidth({ isTTY: false }, { COLUMNS: '120' })).toBe(120);
    expect(outputWidth({}, {})).toBe(100);
    expect(outputWidth({}, { COLUMNS: 'wide' })).toBe(100);
    expect(outputWidth({ isTTY: true, columns: 0 }, {})).toBe(100);
  });
});
