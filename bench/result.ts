// What a bench run records: figures (one number each, with its samples and target) and
// free-form details per section (per-check times, per-migration times, scan counts).

export type Unit = 'ms' | 's' | 'MiB' | 'grants/s' | '×';

export interface Target {
  /** The figure meets the target when `value op limit`. */
  op: '<' | '<=' | '>=';
  limit: number;
  /** Only judged at this size or above (size-dependent targets are stated at 10^6 accounts). */
  atAccounts?: number;
  text: string;
}

export type FigureStatus = 'measured' | 'not-available' | 'failed';

export interface Figure {
  id: string;
  label: string;
  unit: Unit;
  status: FigureStatus;
  /** The reported value: the median of `samples` when there are several. */
  value: number | null;
  samples?: number[];
  target?: Target;
  /** true / false when judged; null when the target applies at another size or nothing was measured. */
  meetsTarget?: boolean | null;
  note?: string;
}

export interface BenchResult {
  format: 'igny8-bench/1';
  startedAt: string;
  finishedAt: string;
  accounts: number;
  options: Record<string, unknown>;
  machine: Record<string, unknown>;
  figures: Figure[];
  details: Record<string, unknown>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function judge(value: number, target: Target, accounts: number): boolean | null {
  if (target.atAccounts !== undefined && accounts < target.atAccounts) return null;
  if (target.op === '<') return value < target.limit;
  if (target.op === '<=') return value <= target.limit;
  return value >= target.limit;
}

/** Collects figures in the order they are measured. */
export class Recorder {
  readonly figures: Figure[] = [];
  readonly details: Record<string, unknown> = {};

  constructor(readonly accounts: number) {}

  measured(id: string, label: string, unit: Unit, samples: number | number[], extra: { target?: Target; note?: string } = {}): Figure {
    const list = Array.isArray(samples) ? samples : [samples];
    const value = median(list);
    const figure: Figure = {
      id,
      label,
      unit,
      status: 'measured',
      value: round(value, unit === '×' ? 2 : 1),
      samples: list.length > 1 ? list.map((sample) => round(sample, unit === '×' ? 2 : 1)) : undefined,
      target: extra.target,
      meetsTarget: extra.target ? judge(value, extra.target, this.accounts) : undefined,
      note: extra.note,
    };
    this.figures.push(figure);
    return figure;
  }

  missing(id: string, label: string, unit: Unit, status: 'not-available' | 'failed', note: string, target?: Target): Figure {
    const figure: Figure = { id, label, unit, status, value: null, target, meetsTarget: target ? null : undefined, note };
    this.figures.push(figure);
    return figure;
  }

  detail(section: string, value: unknown): void {
    this.details[section] = value;
  }
}

export const TARGETS = {
  seed: { op: '<', limit: 60_000, atAccounts: 1_000_000, text: '< 60 s at 10^6' },
  auditRatio: { op: '<=', limit: 3, text: '≤ 3× floor' },
  auditRss: { op: '<', limit: 256, text: '< 256 MiB' },
  repairRss: { op: '<', limit: 256, text: '< 256 MiB' },
  migrate: { op: '<', limit: 180_000, atAccounts: 1_000_000, text: '< 3 min at 10^6' },
  grants: { op: '>=', limit: 1_000, text: '≥ 1,000/s' },
  help: { op: '<', limit: 200, text: '< 200 ms' },
  emptyAudit: { op: '<', limit: 1_500, text: '< 1.5 s' },
  incremental: { op: '<', limit: 300, atAccounts: 1_000_000, text: '< 0.3 s at 10^6' },
  journalCost: { op: '<=', limit: 1.1, text: '≤ 1.10× (under 10%)' },
} satisfies Record<string, Target>;
