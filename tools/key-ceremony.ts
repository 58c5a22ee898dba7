/**
 * `npm run key-ceremony -- <command>`: the key-ceremony tool (issue 4; see
 * docs/key-ceremony.md, "CLI"). The logic lives in tools/key-ceremony/.
 */
import './module-aliases';
import 'reflect-metadata';
import { runCli } from './key-ceremony/cli';

runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
}).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`key-ceremony: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
