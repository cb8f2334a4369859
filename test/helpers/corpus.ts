/** Where the public capture corpus with its tshark oracles is (../shared/pcaps, or TAPWATCH_CORPUS). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findCorpus(): { dir: string | null; why: string } {
  const env = process.env['TAPWATCH_CORPUS'];
  if (env) {
    const d = resolve(env);
    if (existsSync(join(d, 'public')) && existsSync(join(d, 'oracle'))) return { dir: d, why: '' };
    if (existsSync(join(d, '..', 'oracle')) && existsSync(d)) return { dir: resolve(d, '..'), why: '' };
    return { dir: null, why: `TAPWATCH_CORPUS=${env} has no public/ and oracle/ folders` };
  }
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const c = join(d, 'shared', 'pcaps');
    if (existsSync(join(c, 'public')) && existsSync(join(c, 'oracle'))) return { dir: c, why: '' };
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return { dir: null, why: 'no shared/pcaps/{public,oracle} above the repository and TAPWATCH_CORPUS is not set' };
}
