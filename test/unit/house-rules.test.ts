// House rules that no linter setting states directly: no function over 120 lines (the pickle reader,
// a flat opcode switch, excepted), and no import cycle among the packages' sources, within a package
// or across them (type-only imports excepted: they vanish at run time).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers.js';

const PACKAGES = path.join(REPO_ROOT, 'packages');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
const FILES = readdirSync(PACKAGES)
  .map((p) => path.join(PACKAGES, p, 'src'))
  .filter((d) => existsSync(d))
  .flatMap((d) => sources(d));
const parsed = new Map(FILES.map((f) => [f, ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true)]));

/** The source file a specifier names, or null for a dependency outside the packages. */
function resolve(from: string, spec: string): string[] {
  if (spec.startsWith('.')) return [path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts')];
  const internal = /^@livestyle\/([^/]+)\/internal\/(.+)\.js$/.exec(spec);
  if (internal) return [path.join(PACKAGES, internal[1]!, 'src', `${internal[2]!}.ts`)];
  if (spec === '@livestyle/core') return ['index.ts', 'node.ts'].map((f) => path.join(PACKAGES, 'core', 'src', f));
  return [];
}

/** Value imports and re-exports of a file (static and dynamic), resolved to package sources. */
function edges(file: string): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly && ts.isStringLiteral(n.moduleSpecifier)) {
      const named = n.importClause?.namedBindings;
      const allTypes =
        n.importClause !== undefined &&
        n.importClause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (!allTypes) out.push(...resolve(file, n.moduleSpecifier.text));
    } else if (ts.isExportDeclaration(n) && !n.isTypeOnly && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(...resolve(file, n.moduleSpecifier.text));
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(n.arguments[0]!)) {
      out.push(...resolve(file, n.arguments[0].text));
    }
    ts.forEachChild(n, visit);
  };
  visit(parsed.get(file)!);
  return out.filter((f) => parsed.has(f));
}

describe('house rules', () => {
  it('has no function over 120 lines outside the pickle reader', () => {
    const long: string[] = [];
    for (const [file, sf] of parsed) {
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const lines = sf.getLineAndCharacterOfPosition(n.end).line - sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
          const name = n.name?.getText() ?? '<anonymous>';
          if (lines > 120 && !(file.endsWith(path.join('weights', 'pickle.ts')) && name === 'readPickle'))
            long.push(`${path.relative(REPO_ROOT, file)}: ${name} (${lines} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });

  it("has no import cycle among the packages' sources", () => {
    const graph = new Map(FILES.map((f) => [f, edges(f)]));
    // Tarjan's strongly connected components: any component of more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const connect = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!idx.has(w)) {
          connect(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(path.relative(REPO_ROOT, w));
        } while (w !== v);
        if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
      }
    };
    for (const f of FILES) if (!idx.has(f)) connect(f);
    expect(cycles).toEqual([]);
    // The check sees the real graph: the Stylizer reaches the WCT code.
    expect(graph.get(path.join(PACKAGES, 'core', 'src', 'pipeline', 'stylizer.ts'))).toContain(
      path.join(PACKAGES, 'core', 'src', 'transforms', 'transform.ts'),
    );
  });
});
