// What `npm pack` ships: everything the built code reads or imports at run time, and nothing
// a user does not need. (.ci/package-check installs the real tarball and runs it; this test
// names the missing file in seconds.)
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
  bin: Record<string, string>;
  license: string;
  repository?: unknown;
};

function packedFiles(): Set<string> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const json = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  const [entry] = JSON.parse(json) as Array<{ files: Array<{ path: string }> }>;
  return new Set(entry.files.map((file) => file.path));
}

function builtFiles(dir = path.join(ROOT, 'dist')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? builtFiles(full) : [path.relative(ROOT, full)];
  });
}

const files = packedFiles();
const built = builtFiles().filter((file) => file.endsWith('.js'));

describe('the npm package', () => {
  it('ships the entry point, every built module, the LICENSE and the README', () => {
    expect(built.length).toBeGreaterThan(50);
    for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin);
    for (const file of built) expect(files, `${file} is not in the package`).toContain(file);
    for (const file of ['package.json', 'README.md', 'LICENSE']) expect(files).toContain(file);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License[\s\S]*igny8 contributors/);
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository).toBeDefined();
  });

  it("ships each migration's source text, which its checksum is taken over", () => {
    const migrations = built.filter((file) => /^dist\/migrations\/\d{4}_[^/]+\.js$/.test(file));
    expect(migrations.length).toBeGreaterThan(20);
    for (const file of migrations) {
      const source = file.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(files, `${source} is not in the package`).toContain(source);
    }
  });

  it('ships every file the built code reads relative to itself (new URL(..., import.meta.url))', () => {
    const read: string[] = [];
    for (const file of built) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/new URL\((['"])([^'"]+)\1, import\.meta\.url\)/g)) {
        read.push(path.relative(ROOT, path.resolve(ROOT, path.dirname(file), match[2])));
      }
    }
    expect(read).toContain('package.json');
    expect(read).toContain(path.join('fixtures', 'catalog.json'));
    for (const target of read) {
      const shipped = [...files].some((packed) => packed === target || packed.startsWith(`${target.replace(/\/$/, '')}/`));
      expect(shipped, `${target} is read at run time but not in the package`).toBe(true);
    }
  });

  it('leaves out sources (but the migrations\' own, for their checksums), tests, source maps and local state', () => {
    const unwanted = [...files].filter(
      (file) => /^(src|test|bench|docs|\.igny8|\.ci)\/|\.map$|^tsconfig|^vitest/.test(file) && !/^src\/migrations\/\d{4}_[^/]+\.ts$/.test(file),
    );
    expect(unwanted).toEqual([]);
  });

  it('imports at run time only its dependencies and Node built-ins, never a dev dependency', () => {
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of built) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      const statics = text.matchAll(/^(?:import\b[^;'"]*?|export\b[^;'"]*?\bfrom\s*)(['"])([^'"]+)\1;$/gm);
      const dynamics = text.matchAll(/\bimport\((['"])([^'"]+)\1\)/g);
      for (const match of [...statics, ...dynamics]) {
        const specifier = match[2];
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (!builtins.has(name)) imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported) expect(Object.keys(pkg.dependencies), `${name} is imported but not a dependency`).toContain(name);
  });
});
