// Text for a terminal: counts with the right plural, widths as the terminal counts them, and
// lines wrapped on word boundaries to fit its width.
import { stripVTControlCharacters } from 'node:util';

/** "1 check", "2 checks", "1,000 error rows". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

// Terminals draw East Asian wide characters and most emoji in two columns, combining marks
// and zero-width characters in none. A close approximation is enough: the table layout
// truncates whatever it measured too short, so a line never grows past the width.
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B-\u200F\u2060\uFE00-\uFE0F\uFEFF]/u;

/** Columns a single line takes on a terminal, colour codes excluded. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text)) {
    if (ZERO_WIDTH.test(char)) continue;
    width += WIDE.test(char) ? 2 : 1;
  }
  return width;
}

/** Cuts plain text to at most `width` columns, marking the cut with an ellipsis. */
export function ellipsis(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let kept = '';
  for (const char of text) {
    if (visibleWidth(kept + char) > width - 1) break;
    kept += char;
  }
  return `${kept}…`;
}

export interface WrapOptions {
  /** Prefix of every line after the first; default: the first line's indentation plus two spaces. */
  hang?: string;
}

/**
 * Wraps one line of text to `width` columns on spaces, keeping its indentation and the spacing
 * between words; colour codes take no width. A word is never broken; one wider than the line is
 * cut with an ellipsis.
 */
export function wrapText(text: string, width: number, options: WrapOptions = {}): string[] {
  const indent = /^ */.exec(text)![0];
  const hang = options.hang ?? `${indent}  `;
  const parts = text.slice(indent.length).split(/( +)/);
  const lines: string[] = [];
  let start = indent;
  let line = '';
  for (let i = 0; i < parts.length; i += 2) {
    if (parts[i] === '') continue;
    const space = line ? parts[i - 1] : '';
    if (line && visibleWidth(start + line + space + parts[i]) > width) {
      lines.push(start + line);
      start = hang;
      line = '';
    }
    const before = line ? line + space : '';
    line = before + ellipsis(parts[i], Math.max(1, width - visibleWidth(start + before)));
  }
  lines.push(start + line);
  return lines;
}

/** The widest a line may be: the terminal's columns, else COLUMNS, else 100. */
export function outputWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number {
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 100;
}
