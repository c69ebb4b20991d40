// The JUnit XML shape CI servers read (the Ant JUnit schema, as Jenkins' junit plugin and
// GitLab's test reports parse it): the elements, their order and attributes, number formats,
// and totals that agree with the testcases. Throws on the first violation; returns the cases.
import { parseXml, type XmlElement } from './xml.js';

export interface JunitCase {
  name: string;
  classname: string;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  element: XmlElement;
  systemOut: string;
}

export interface Junit {
  suites: XmlElement;
  suite: XmlElement;
  cases: JunitCase[];
}

const SECONDS = /^\d+(\.\d+)?$/;
const COUNT = /^\d+$/;
// Ant's timestamp: an ISO 8601 date and time without a zone.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function fail(message: string): never {
  throw new Error(`junit: ${message}`);
}

function attributes(element: XmlElement, allowed: string[], required: string[]): void {
  for (const name of Object.keys(element.attributes)) {
    if (!allowed.includes(name)) fail(`<${element.name}> has an attribute the schema does not know: ${name}`);
  }
  for (const name of required) if (!(name in element.attributes)) fail(`<${element.name}> lacks ${name}`);
}

function numeric(element: XmlElement, names: string[], pattern: RegExp): void {
  for (const name of names) {
    const value = element.attributes[name];
    if (value !== undefined && !pattern.test(value)) fail(`<${element.name} ${name}="${value}"> is not a number of that kind`);
  }
}

/** Children in the order the schema gives, each name at most `max` times. */
function children(element: XmlElement, order: Array<[name: string, max: number]>): void {
  let position = 0;
  const seen = new Map<string, number>();
  for (const child of element.children) {
    const index = order.findIndex(([name]) => name === child.name);
    if (index < 0) fail(`<${element.name}> may not contain <${child.name}>`);
    if (index < position) fail(`<${child.name}> comes too late inside <${element.name}>`);
    position = index;
    const times = (seen.get(child.name) ?? 0) + 1;
    if (times > order[index][1]) fail(`<${element.name}> has more than ${order[index][1]} <${child.name}>`);
    seen.set(child.name, times);
  }
  if (element.text.trim() && !['failure', 'error', 'system-out', 'system-err', 'skipped'].includes(element.name)) {
    fail(`<${element.name}> has text outside its children`);
  }
}

function testcase(element: XmlElement): JunitCase {
  attributes(element, ['name', 'classname', 'time', 'file', 'line', 'assertions', 'status'], ['name', 'classname', 'time']);
  numeric(element, ['time'], SECONDS);
  const outcomes = element.children.filter((child) => ['failure', 'error', 'skipped'].includes(child.name));
  if (outcomes.length > 1) fail(`testcase ${element.attributes.name} has more than one outcome`);
  children(element, [
    ['skipped', 1],
    ['error', 1],
    ['failure', 1],
    ['system-out', 1],
    ['system-err', 1],
  ]);
  for (const outcome of outcomes) {
    attributes(outcome, ['message', 'type'], outcome.name === 'skipped' ? [] : ['message', 'type']);
    if (outcome.children.length > 0) fail(`<${outcome.name}> may hold text only`);
  }
  for (const out of element.children.filter((child) => child.name.startsWith('system-'))) {
    attributes(out, [], []);
    if (out.children.length > 0) fail(`<${out.name}> may hold text only`);
  }
  return {
    name: element.attributes.name,
    classname: element.attributes.classname,
    outcome: (outcomes[0]?.name ?? 'passed') as JunitCase['outcome'],
    element,
    systemOut: element.children.find((child) => child.name === 'system-out')?.text ?? '',
  };
}

export function validateJunit(xml: string): Junit {
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) fail('no XML declaration with UTF-8');
  const suites = parseXml(xml);
  if (suites.name !== 'testsuites') fail(`the root is <${suites.name}>, not <testsuites>`);
  attributes(suites, ['name', 'tests', 'failures', 'errors', 'skipped', 'disabled', 'time'], []);
  numeric(suites, ['tests', 'failures', 'errors', 'skipped', 'disabled'], COUNT);
  numeric(suites, ['time'], SECONDS);
  children(suites, [['testsuite', Infinity]]);
  if (suites.children.length !== 1) fail('one <testsuite> expected');
  const [suite] = suites.children;
  attributes(
    suite,
    ['name', 'tests', 'failures', 'errors', 'skipped', 'disabled', 'time', 'timestamp', 'hostname', 'id', 'package', 'file'],
    ['name', 'tests', 'failures', 'errors', 'time'],
  );
  numeric(suite, ['tests', 'failures', 'errors', 'skipped', 'disabled'], COUNT);
  numeric(suite, ['time'], SECONDS);
  if (suite.attributes.timestamp !== undefined && !TIMESTAMP.test(suite.attributes.timestamp)) {
    fail(`timestamp ${suite.attributes.timestamp} is not an ISO 8601 date and time without a zone`);
  }
  children(suite, [
    ['properties', 1],
    ['testcase', Infinity],
    ['system-out', 1],
    ['system-err', 1],
  ]);
  for (const properties of suite.children.filter((child) => child.name === 'properties')) {
    children(properties, [['property', Infinity]]);
    for (const property of properties.children) attributes(property, ['name', 'value'], ['name', 'value']);
  }
  const cases = suite.children.filter((child) => child.name === 'testcase').map(testcase);
  const names = new Set(cases.map((c) => `${c.classname}.${c.name}`));
  if (names.size !== cases.length) fail('two testcases share a classname and name');
  const count = (outcome: JunitCase['outcome']) => String(cases.filter((c) => c.outcome === outcome).length);
  const expected = { tests: String(cases.length), failures: count('failure'), errors: count('error'), skipped: count('skipped') };
  for (const [name, value] of Object.entries(expected)) {
    if (suite.attributes[name] !== undefined && suite.attributes[name] !== value) {
      fail(`testsuite ${name}="${suite.attributes[name]}" but its testcases say ${value}`);
    }
    if (suites.attributes[name] !== undefined && suites.attributes[name] !== value) {
      fail(`testsuites ${name}="${suites.attributes[name]}" but its testcases say ${value}`);
    }
  }
  return { suites, suite, cases };
}
