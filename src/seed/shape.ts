// How `seed legacy` lays its rows out and how many each account has: the layout (rows in
// account order, or in arrival order as a live database holds them) and the shape (rows per
// account of each table). Both are parameters so the audit can be measured on either.
import { ValidationError } from '../errors.js';

export const LAYOUTS = ['ordered', 'arrival'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Mean rows per account: users, sites, sectors (all sites together) and ledger rows. */
export interface DataShape {
  users: number;
  sites: number;
  sectors: number;
  ledger: number;
}

export const SHAPE_FIELDS = ['users', 'sites', 'sectors', 'ledger'] as const;

/**
 * `lean` is the shape the seed always wrote (each plan's base members, sites and sectors, a
 * grant and one deduction). `production` is what a live database of this product holds: more
 * members and sectors, and a ledger of a dozen rows per account on average, heavy-tailed.
 * `busy` is an older, more active customer base.
 */
export const NAMED_SHAPES: Readonly<Record<string, DataShape>> = {
  lean: { users: 1.4, sites: 1.3, sectors: 1.3, ledger: 2 },
  production: { users: 1.75, sites: 1.5, sectors: 2.6, ledger: 12 },
  busy: { users: 2, sites: 1.7, sectors: 5, ledger: 40 },
};

// Plans come by account id (4 free, 3 starter, 2 growth, 1 scale in ten). Per plan: base
// members and sites (what the planted defects are built on), and how many more a clean
// account can get without going over the plan's limits.
const PLAN_SHARES = { free: 0.4, starter: 0.3, growth: 0.2, scale: 0.1 };
const ROOM = {
  // max_users 1/2/3/5 over base 1/1/2/3
  users: { free: 0, starter: 1, growth: 1, scale: 2 },
  // max_sites 1/1/3/5 over base 1/1/2/2
  sites: { free: 0, starter: 0, growth: 1, scale: 3 },
  // sectors per site besides the first: max_sectors_per_site 1/3/5/unlimited (scale: 9 more)
  sectorsPerSite: { free: 0, starter: 2, growth: 4, scale: 9 },
};
const BASE_SITES = { free: 1, starter: 1, growth: 2, scale: 2 };
const LEAN = NAMED_SHAPES.lean;
const MAX_LEDGER = 2000;
/** The most ledger rows one account gets. */
export const LEDGER_CAP = 5000;
/** The tail's exponent: P(rows > x) falls as x^-1.5; a few accounts reach thousands. */
export const LEDGER_TAIL = 1.5;

type Plan = keyof typeof PLAN_SHARES;
const PLANS = Object.keys(PLAN_SHARES) as Plan[];
const mean = (per: Record<Plan, number>) => PLANS.reduce((sum, plan) => sum + PLAN_SHARES[plan] * per[plan], 0);

/** The largest mean a clean database (no defects) can reach for each field. */
export function shapeLimits(): DataShape {
  const sites = LEAN.sites + mean(ROOM.sites);
  const sectors = sites + mean(Object.fromEntries(PLANS.map((plan) => [plan, (BASE_SITES[plan] + ROOM.sites[plan]) * ROOM.sectorsPerSite[plan]])) as Record<Plan, number>);
  return { users: LEAN.users + mean(ROOM.users), sites, sectors, ledger: MAX_LEDGER };
}

/** `--shape`: a named shape, per-table numbers, or a name followed by overrides (`production,ledger=30`). */
export function parseShape(text: string | undefined): { name: string; shape: DataShape } {
  if (text === undefined) return { name: 'lean', shape: { ...LEAN } };
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  let name = 'custom';
  let shape: DataShape = { ...LEAN };
  if (parts.length > 0 && !parts[0].includes('=')) {
    const named = NAMED_SHAPES[parts[0]];
    if (!named) throw new ValidationError('--shape', `unknown shape ${JSON.stringify(parts[0])} (known: ${Object.keys(NAMED_SHAPES).join(', ')})`);
    name = parts.shift() as string;
    shape = { ...named };
  }
  for (const part of parts) {
    const [field, value, ...rest] = part.split('=');
    if (!(SHAPE_FIELDS as readonly string[]).includes(field) || rest.length > 0) {
      throw new ValidationError('--shape', `expected a shape name or ${SHAPE_FIELDS.map((f) => `${f}=N`).join(',')}, got ${JSON.stringify(part)}`);
    }
    const number = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value ?? '') || !Number.isFinite(number)) throw new ValidationError('--shape', `${field} must be a number, got ${JSON.stringify(value)}`);
    shape[field as keyof DataShape] = number;
    if (name !== 'custom') name = `${name}+`;
  }
  validateShape(shape);
  return { name: name.endsWith('+') ? `${name.slice(0, -1)},${parts.join(',')}` : name, shape };
}

export function validateShape(shape: DataShape): void {
  const max = shapeLimits();
  for (const field of SHAPE_FIELDS) {
    const low = field === 'sectors' ? shape.sites : LEAN[field];
    if (!(shape[field] >= low - 1e-9 && shape[field] <= max[field] + 1e-9)) {
      throw new ValidationError(
        '--shape',
        `${field}=${shape[field]} is out of reach: between ${round(low)} and ${round(max[field])} ${field === 'ledger' ? 'rows' : field} per account within the plans' limits`,
      );
    }
  }
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * What each clean account gets beyond the base: the share of its room used for members,
 * sites and sectors (an account takes floor(room × share + u), u evenly spread over
 * accounts, so the means come out as asked), and the ledger's tail scale.
 */
export interface ShapeFractions {
  users: number;
  sites: number;
  sectors: number;
  /** Extra ledger rows of an account: min(cap, floor(scale × (u^(-1/tail) − 1))). */
  ledgerScale: number;
}

export function shapeFractions(shape: DataShape, defectRate: number): ShapeFractions {
  const clean = Math.max(0, 1 - defectRate);
  const share = (want: number, room: number) => (want <= 1e-9 || clean === 0 || room === 0 ? 0 : Math.min(1, want / (room * clean)));
  const users = share(shape.users - LEAN.users, mean(ROOM.users));
  const sites = share(shape.sites - LEAN.sites, mean(ROOM.sites));
  const sectorRoom = mean(Object.fromEntries(PLANS.map((plan) => [plan, (BASE_SITES[plan] + sites * ROOM.sites[plan]) * ROOM.sectorsPerSite[plan]])) as Record<Plan, number>);
  const sectors = share(shape.sectors - shape.sites, sectorRoom);
  return { users, sites, sectors, ledgerScale: ledgerScale(shape.ledger - LEAN.ledger) };
}

/** Extra ledger rows for an account at quantile u (0 < u < 1): heavy-tailed, capped. */
export function extraLedgerRows(scale: number, u: number): number {
  return Math.min(LEDGER_CAP - 2, Math.floor(scale * (Math.pow(u, -1 / LEDGER_TAIL) - 1)));
}

/** The tail scale whose mean extra rows (over evenly spread quantiles) is `extra`. */
function ledgerScale(extra: number): number {
  if (extra <= 0) return 0;
  const points = 20_000;
  const meanAt = (scale: number) => {
    let sum = 0;
    for (let k = 0; k < points; k++) sum += extraLedgerRows(scale, (k + 0.5) / points);
    return sum / points;
  };
  let low = 0;
  let high = extra + 1;
  while (meanAt(high) < extra) high *= 2;
  for (let step = 0; step < 30; step++) {
    const middle = (low + high) / 2;
    if (meanAt(middle) < extra) low = middle;
    else high = middle;
  }
  return high;
}

/** The plan room used in SQL: `case <plan> when 'free' then … end`. */
export function roomSql(kind: keyof typeof ROOM, plan: string): string {
  return `case ${plan} ${PLANS.map((p) => `when '${p}' then ${ROOM[kind][p]}`).join(' ')} end`;
}
