// Help as CLI users expect it: the global options in every command's help, required options
// marked, defaults shown one way ("(default: 10)", never "10" in quotes), and every line
// within 80 columns, or the terminal's width when that is narrower.
import type { AddHelpTextContext, HelpConfiguration, Option } from 'commander';
import { wrapText } from '../render/text.js';

const MAX_WIDTH = 80;

/** 80 columns; a narrower terminal's width. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns ? Math.min(stream.columns, MAX_WIDTH) : MAX_WIDTH;
}

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** An option's description, then what the user needs to know about its value, in parentheses. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push('required');
  if (option.argChoices) extra.push(`one of: ${option.argChoices.join(', ')}`);
  // Booleans (and --no-*) have no default worth showing; options taking a value do.
  if (option.defaultValue !== undefined && (option.required || option.optional)) {
    extra.push(`default: ${option.defaultValueDescription ?? shown(option.defaultValue)}`);
  }
  if (extra.length === 0) return option.description;
  return `${option.description} (${extra.join('; ')})`;
}

export function helpConfiguration(): HelpConfiguration {
  // Commander stops wrapping descriptions narrower than 40 columns; a narrow terminal still wants them wrapped.
  return { showGlobalOptions: true, helpWidth: helpWidth(), minWidthToWrap: 20, optionDescription };
}

/**
 * Text after a command's options, wrapped to the help width between words; a continued line
 * keeps the indentation of the line it continues.
 */
export function helpFooter(text: string): (context: AddHelpTextContext) => string {
  return (context) => {
    const width = helpWidth(context.error ? process.stderr : process.stdout);
    return text
      .split('\n')
      .flatMap((line) => wrapText(line, width, { hang: /^ */.exec(line)![0] }))
      .join('\n');
  };
}
