#!/usr/bin/env node
/**
 * `npm run score`: the detection scorecard (src/score/scorecard.ts) over the
 * bundled captures and the public corpus, as a table; exit 1 when any capture
 * fails (a missed expectation, a bound exceeded, a false alert), 2 on bad input.
 *
 *   node dist/cli/score.js [--markdown] [--json] [--no-public] [NAME-PART ...]
 */
import { scorecard, text, markdown, totalsLine } from '../score/scorecard.js';

async function main(argv: string[]): Promise<number> {
  const only: string[] = [];
  let fmt: 'text' | 'markdown' | 'json' = 'text';
  let noPublic = false;
  for (const a of argv) {
    if (a === '--markdown') fmt = 'markdown';
    else if (a === '--json') fmt = 'json';
    else if (a === '--no-public') noPublic = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: score [--markdown|--json] [--no-public] [NAME-PART ...]\n');
      return 0;
    } else if (a.startsWith('-')) {
      process.stderr.write(`score: unknown option ${a}\n`);
      return 2;
    } else only.push(a);
  }
  const s = await scorecard({ only, ...(noPublic ? { corpus: null } : {}) });
  if (fmt === 'json') process.stdout.write(JSON.stringify(s, null, 1) + '\n');
  else if (fmt === 'markdown') {
    process.stdout.write(markdown(s) + '\n\n' + totalsLine(s) + '\n');
    if (s.publicSkipped !== undefined) process.stdout.write(`\npublic corpus skipped: ${s.publicSkipped}\n`);
  } else process.stdout.write(text(s) + '\n');
  return s.totals.failed ? 1 : 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => {
  process.stderr.write(`score: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
