// The --fail-on gate on its own, free of the runner and its rule registry, so renderers and
// the runner judge a check the same way without loading the checks.
import type { CheckResult, FailOn } from './run.js';

/**
 * Whether a check's findings fail the run at this --fail-on: findings below it pass, and so do
 * findings a threshold tolerates.
 */
export function failsGate(result: Pick<CheckResult, 'status' | 'severity' | 'tolerated'>, failOn: FailOn): boolean {
  return (
    result.status === 'findings' &&
    !result.tolerated &&
    (failOn === 'warning' || (failOn === 'error' && result.severity === 'error'))
  );
}
