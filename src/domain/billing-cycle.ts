// A plan's billing cycle, written once: registration, plan changes, renewals and repairs agree
// on how long a period is.
const YEARLY_CYCLES = ['yearly', 'annual'];

/** One billing cycle as a Postgres interval. */
export function billingInterval(cycle: string): string {
  return YEARLY_CYCLES.includes(cycle) ? '1 year' : '1 month';
}

/** The same, in SQL, for the plan row aliased `plan`: registration, renewals and repairs agree on a cycle. */
export function billingIntervalSql(plan: string): string {
  return `case when ${plan}.billing_cycle in (${YEARLY_CYCLES.map((cycle) => `'${cycle}'`).join(', ')}) then interval '1 year' else interval '1 month' end`;
}
