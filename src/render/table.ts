// Plain tables for people. Borders only; colour is the caller's business.
import Table from 'cli-table3';

export function renderTable(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  return table.toString();
}
