// Every format an audit report can be written in, behind one call: the terminal's format and
// each --output file go through here.
import type { ChalkInstance } from 'chalk';
import type { RecordedRun } from '../audit/history.js';
import type { AuditReport } from '../audit/run.js';
import { auditDocument } from './audit-json.js';
import { renderAuditTable } from './audit-table.js';
import { renderGithub } from './github.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';

export const AUDIT_FORMATS = ['table', 'json', 'junit', 'github', 'markdown', 'html'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** The format a bare `--output FILE` takes from its extension. */
export const FORMAT_BY_EXTENSION: Readonly<Record<string, AuditFormat>> = {
  '.xml': 'junit',
  '.json': 'json',
  '.md': 'markdown',
  '.html': 'html',
  '.htm': 'html',
};

export interface RenderOptions {
  color: ChalkInstance;
  width: number;
  /** Emails and names unmasked in markdown, html and github output (they are masked by default). */
  showPersonalData: boolean;
  /** Recorded runs, oldest first: the html report charts them. */
  history: readonly RecordedRun[];
}

export function renderAudit(format: AuditFormat, report: AuditReport, options: RenderOptions): string {
  switch (format) {
    case 'json':
      return JSON.stringify(auditDocument(report), null, 2);
    case 'junit':
      return renderJunit(report);
    case 'github':
      return renderGithub(report, { showPersonalData: options.showPersonalData }).join('\n');
    case 'markdown':
      return renderMarkdown(report, { showPersonalData: options.showPersonalData });
    case 'html':
      return renderHtml(report, { history: options.history, showPersonalData: options.showPersonalData });
    case 'table':
      return renderAuditTable(report, options.color, options.width).join('\n');
  }
}
