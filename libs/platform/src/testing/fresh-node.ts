import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs `body` in a fresh Node process (with `--expose-gc`) after loading one
 * TypeScript module of this folder's parent through TypeScript's transpiler,
 * as `loaded`; returns what the child wrote to stdout. For tests of V8
 * behaviour that happens once per process (shapes, feedback), which a jest
 * worker has already been through. The module must import node: built-ins
 * only. `body` may call `natives(...parameters, source)`, which is
 * `new Function(...)` with V8's %-syntax allowed (from then on).
 */
export function runInFreshNode(moduleFile: string, body: string): string {
  const source = join(__dirname, '..', moduleFile);
  const script = `
    const { readFileSync } = require('node:fs');
    const Module = require('node:module');
    const ts = require('typescript');
    const v8 = require('node:v8');
    const file = ${JSON.stringify(source)};
    const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const loaded = new Module(file); loaded.filename = file; loaded.paths = Module._nodeModulePaths(${JSON.stringify(join(__dirname, '..'))}); loaded._compile(js, file);
    const natives = (...args) => { v8.setFlagsFromString('--allow-natives-syntax'); return new Function(...args); };
    ${body}
  `;
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    cwd: join(__dirname, '..', '..', '..', '..'),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  if (child.status !== 0) throw new Error(`child process failed (${child.status}): ${child.stderr}`);
  return child.stdout;
}
