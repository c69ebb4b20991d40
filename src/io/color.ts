// Whether igny8 writes colour, decided here and nowhere else. In this order:
// --no-color > NO_COLOR (set and not empty, as no-color.org says) > FORCE_COLOR (0 or false:
// off; 1, 2, 3, true or empty: on at that level) > what chalk detects for the stream (a TTY,
// TERM, the CI system). chalk alone lets FORCE_COLOR override --no-color and ignores NO_COLOR.
import { supportsColor, supportsColorStderr } from 'chalk';

export type ColorLevel = 0 | 1 | 2 | 3;

export interface ColorSources {
  /** false when --no-color was given. */
  flag?: boolean;
  env: NodeJS.ProcessEnv;
  /** The stream the colour is for. */
  stream: { isTTY?: boolean };
}

function forcedLevel(value: string | undefined): ColorLevel | undefined {
  if (value === undefined) return undefined;
  if (value === 'false') return 0;
  const level = Number.parseInt(value, 10);
  // Set to anything else (empty, true, yes): the user asked for colour.
  return Number.isInteger(level) ? (Math.max(0, Math.min(level, 3)) as ColorLevel) : 1;
}

/** What the terminal behind a stream supports: chalk's detection for stdout and stderr. */
function detectedLevel(stream: { isTTY?: boolean }): ColorLevel {
  if (stream === process.stdout) return supportsColor ? supportsColor.level : 0;
  if (stream === process.stderr) return supportsColorStderr ? supportsColorStderr.level : 0;
  return stream.isTTY ? 1 : 0;
}

export function colorLevel({ flag, env, stream }: ColorSources): ColorLevel {
  if (flag === false) return 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  return forcedLevel(env.FORCE_COLOR) ?? detectedLevel(stream);
}
