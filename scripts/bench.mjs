#!/usr/bin/env node
import { chromium } from 'playwright-core';
// `npm run bench`: runs the benchmark suites of e2e/harness/bench.ts in headless Chromium (WebGPU) against
// the production build, inside the harness Worker (where the trainer runs), and prints one JSON document:
// adapter info, browser version, each suite's results, and `table`: our step / encoder figures with their ratios
// to the TF.js peers (suite `peer`) on the same adapter. Not a test: it asserts nothing about speed.
//
// Usage: node scripts/bench.mjs [suite ...] [--reps N] [--page] [--options JSON]
//   suites default to every suite the harness exposes; --page runs in the page instead of the worker.
//   `classroom` (on demand; add --all-steps to time every lesson step) drives the app: scripts/bench-classroom.mjs.
import { preview } from 'vite';
import { peerTable } from './bench-table.mjs';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const argv = process.argv.slice(2);
const repsIdx = argv.indexOf('--reps');
const reps = repsIdx >= 0 ? Number(argv[repsIdx + 1]) : undefined;
const where = argv.includes('--page') ? 'page' : 'worker';
const optIdx = argv.indexOf('--options'); // suite options as JSON, e.g. '{"shapes":[…]}'
const options = optIdx >= 0 ? JSON.parse(argv[optIdx + 1]) : undefined;
const wanted = argv.filter(
  (a, i) => !a.startsWith('--') && argv[i - 1] !== '--reps' && argv[i - 1] !== '--options',
);

const port = Number(process.env.BENCH_PORT ?? 4399);
const server = await preview({ preview: { host: '127.0.0.1', port, strictPort: true }, logLevel: 'silent' });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
let exitCode = 0;
try {
  if (wanted.includes('classroom')) {
    // The classroom suite drives the app itself (scripts/bench-classroom.mjs), not the harness.
    const { benchClassroom } = await import('./bench-classroom.mjs');
    const opts = { allSteps: argv.includes('--all-steps'), reps: reps ?? 1 };
    const suites = { classroom: await benchClassroom(browser, port, opts) };
    console.log(
      JSON.stringify(
        { date: new Date().toISOString(), browser: `chromium ${browser.version()}`, suites },
        null,
        2,
      ),
    );
    wanted.splice(wanted.indexOf('classroom'), 1);
    if (wanted.length === 0) {
      await browser.close();
      await new Promise((r) => server.httpServer.close(r));
      process.exit(0);
    }
  }
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto(`http://127.0.0.1:${port}/e2e/harness/index.html`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'harness ready');
  const suites = wanted.length ? wanted : await page.evaluate(() => window.harness.page.suites());
  const adapter = await page.evaluate((w) => window.harness[w].adapter(), where);
  const out = {
    date: new Date().toISOString(),
    browser: `chromium ${browser.version()}`,
    context: where,
    adapter,
    note: 'Medians over repeated runs on one adapter. Compare ratios; absolute times on a shared machine are noise.',
    suites: {},
  };
  for (const suite of suites) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${suite}…\n`);
    out.suites[suite] = await page.evaluate(
      ([w, spec]) => window.harness[w].bench(spec),
      [where, { suite, reps, options }],
    );
    process.stderr.write(`bench: ${suite} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  // Every figure next to its peer on the same adapter, from this one run (scripts/bench-table.mjs).
  out.table = peerTable(out.suites);
  console.log(JSON.stringify(out, null, 2));
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.message : e}`);
  exitCode = 1;
} finally {
  await browser.close();
  await new Promise((r) => server.httpServer.close(r));
}
process.exit(exitCode);
