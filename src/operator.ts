// Who ran an operation that changes many rows (a repair, an undo, a billing run, a key
// rotation): the histories record it beside igny8's version, so a reader of the tables later
// knows which person and which igny8 did what.
import { userInfo } from 'node:os';
import { igny8Version } from './version.js';

export interface Operator {
  /** The operating-system user that ran igny8. */
  ranBy: string;
  /** Why, when the operator said (`--reason`). */
  reason: string | null;
  igny8Version: string;
}

export function currentOperator(reason?: string | null): Operator {
  let ranBy: string;
  try {
    ranBy = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers): the environment is the next best name.
    ranBy = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return { ranBy, reason: reason?.trim() || null, igny8Version: igny8Version() };
}
