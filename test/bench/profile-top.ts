/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): the functions with the
 * most self time, and the same grouped by source file, so a profile can be
 * read without Chrome DevTools.
 *
 *   node dist-bench/profile-top.js FILE.cpuprofile [--top N]
 *
 * Self time of a node = its hit count x the mean sample interval (total
 * profile time / samples); nodes of the same function (name, file, line) are
 * added up, wherever they sit in the call tree.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './gen-capture.js';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] }

export interface TopRow { name: string; where: string; ms: number; share: number }

function where(url: string, line: number): string {
  if (url === '') return '';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const r = p.startsWith('/') ? relative(ROOT, p) : p;
  return `${r}:${line + 1}`;
}

export function summarise(p: Profile): { totalMs: number; functions: TopRow[]; files: TopRow[] } {
  const totalMs = (p.endTime - p.startTime) / 1000;
  const perSample = p.samples.length > 0 ? totalMs / p.samples.length : 0;
  const fn = new Map<string, TopRow>();
  const file = new Map<string, TopRow>();
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const ms = hits * perSample;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const w = where(url, lineNumber);
    const key = `${name}\0${w}`;
    const a = fn.get(key) ?? { name, where: w, ms: 0, share: 0 };
    a.ms += ms;
    fn.set(key, a);
    const f = url === '' ? name : w.replace(/:\d+$/, '');
    const b = file.get(f) ?? { name: f, where: '', ms: 0, share: 0 };
    b.ms += ms;
    file.set(f, b);
  }
  const sorted = (m: Map<string, TopRow>): TopRow[] => [...m.values()].map((r) => ({ ...r, share: r.ms / totalMs })).sort((a, b) => b.ms - a.ms);
  return { totalMs, functions: sorted(fn), files: sorted(file) };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args[ti + 1]) : 25;
  if (file === undefined || !Number.isInteger(top) || top < 1) {
    console.error('usage: node dist-bench/profile-top.js FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  let prof: Profile;
  try {
    prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  } catch (e) {
    console.error(`profile-top: ${file}: ${(e as Error).message}`);
    process.exit(2);
  }
  const s = summarise(prof);
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  console.log(`${file}: ${(s.totalMs / 1000).toFixed(2)} s profiled\n\nTop ${top} functions by self time:`);
  for (const r of s.functions.slice(0, top)) console.log(`${r.ms.toFixed(0).padStart(7)} ms ${pct(r.share).padStart(6)}  ${r.name}  ${r.where}`);
  console.log(`\nBy file:`);
  for (const r of s.files.slice(0, Math.min(top, 15))) console.log(`${r.ms.toFixed(0).padStart(7)} ms ${pct(r.share).padStart(6)}  ${r.name}`);
}
