// The --fail-on gate on its own, free of the runner and its rule registry, so renderers and
// the runner judge a check the same way without loading the checks.
import type { CheckResult, FailOn } from './run.js';

/** Whether a check's findings fail the run at this --fail-on (findings below it pass). */
export function failsGate(result: Pick<CheckResult, 'status' | 'severity'>, failOn: FailOn): boolean {
  return result.status === 'findings' && (failOn === 'warning' || (failOn === 'error' && result.severity === 'error'));
}
