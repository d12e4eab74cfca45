#!/usr/bin/env node
/**
 * `npm run lm -- ce|eval|harvest …`: the language model of src/lm/ on its CPU twin, in Node (scripts/lm-run.ts has
 * the commands; `npm run lm -- --help`). Prints one JSON object on stdout; on bad input, one line on stderr and exit
 * status 2. The TypeScript is loaded through Vite's module runner, no build step.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';

const root = resolve(import.meta.dirname, '..');
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      text: { type: 'string' },
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      ctx: { type: 'string' },
      sae: { type: 'string' },
      hook: { type: 'string' },
      out: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
} catch (e) {
  console.error(`lm: ${e.message}`);
  process.exit(2);
}
const { module } = await runnerImport(resolve(root, 'scripts/lm-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
});
const { values, positionals } = parsed;
if (values.help || positionals.length === 0) {
  console.log(module.USAGE);
  process.exit(values.help ? 0 : 2);
}
try {
  const result = module.runLm({ ...values, command: positionals[0] }, (line) => console.error(line));
  console.log(JSON.stringify(result, null, 2));
} catch (e) {
  console.error(`lm: ${String(e.message).split('\n')[0]}`);
  process.exit(2);
}
