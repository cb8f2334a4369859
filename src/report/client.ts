/**
 * The report page's own script. render.ts embeds this function's source
 * (Function.prototype.toString of the compiled code) in the page, so it is
 * type-checked with the rest and must stay self-contained: no imports, no
 * reference to anything outside its body (types only).
 *
 * It reads the report data from <script type="application/json"
 * id="tapwatch-data"> and builds the page with createElement,
 * createElementNS, textContent and setAttribute. No string ever becomes
 * markup: there is no innerHTML, insertAdjacentHTML or document.write here,
 * and attribute values from the data are never URLs or event handlers (ids
 * are the alert's position; the pcap link is a checked plain file name).
 */
import type { ReportData, ReportAlert, HostGroup, Segment } from './model.js';

export function tapwatchReport(): void {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const dataEl = document.getElementById('tapwatch-data');
  const data = JSON.parse(dataEl?.textContent ?? 'null') as ReportData | null;
  const root = document.getElementById('report');
  if (!data || !root) return;

  type Child = Node | string | null | undefined;
  const el = (tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement => {
    const e = document.createElement(tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]!);
    for (const c of children) if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  };
  const sv = (tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement => {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const time = (ts: number, withDate = true): string => {
    if (!Number.isFinite(ts) || Math.abs(ts) > 8.6e12) return String(ts);
    const iso = new Date(ts * 1000).toISOString();
    return withDate ? iso.slice(0, 10) + ' ' + iso.slice(11, 23) + 'Z' : iso.slice(11, 19);
  };
  const dur = (s: number): string => {
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 120) return `${Math.round(s * 10) / 10} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${Math.round(s / 360) / 10} h`;
    return `${Math.round(s / 8640) / 10} d`;
  };
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const hostPort = (a: ReportAlert): string => (a.dst ?? '—') + (a.dport !== null ? `:${a.dport}` : '');
  const index = new Map<string, number>();
  data.alerts.forEach((a, i) => index.set(a.id, i));
  const rowId = (i: number): string => `alert-${i}`;
  const reveal = (i: number): void => {
    const row = document.getElementById(rowId(i));
    if (!row) return;
    const d = row.querySelector('details');
    if (d) d.open = true;
    row.classList.add('flash');
    row.scrollIntoView({ block: 'center' });
    setTimeout(() => row.classList.remove('flash'), 1200);
  };
  const alertLink = (id: string): HTMLElement => {
    const i = index.get(id) ?? -1;
    const a = data.alerts[i];
    const link = el('a', { href: `#${rowId(i)}`, class: `sev-${a?.severity ?? 'low'}` }, a ? a.kind : id);
    link.addEventListener('click', (ev) => { ev.preventDefault(); reveal(i); });
    return link;
  };
  const section = (title: string, ...children: Child[]): HTMLElement => el('section', {}, el('h2', {}, title), ...children);
  const table = (head: string[], rows: Child[][], cls = ''): HTMLElement =>
    el('table', cls ? { class: cls } : {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));

  // ---- header cards
  const t = data.totals;
  const card = (label: string, value: string, cls = ''): HTMLElement => el('div', { class: `card ${cls}` }, el('div', { class: 'v' }, value), el('div', { class: 'l' }, label));
  const cards = el('div', { class: 'cards' },
    card('alerts', fmt(t.alerts)), card('critical', fmt(t.bySeverity.critical), 'sev-critical'), card('high', fmt(t.bySeverity.high), 'sev-high'),
    card('medium', fmt(t.bySeverity.medium), 'sev-medium'), card('low', fmt(t.bySeverity.low), 'sev-low'), card('incidents', fmt(t.incidents)),
    t.packets !== null ? card('packets', fmt(t.packets)) : null, card('events', fmt(t.events)));
  const span = data.span ? `packet time ${time(data.span.first)} – ${time(data.span.last)} (${dur(data.span.last - data.span.first)})` : 'no packet time';
  root.appendChild(el('p', { class: 'meta' }, span));
  root.appendChild(cards);

  // ---- the time axis: segments of activity, breaks between them
  const W = 1100, L = 190, R = 20, PW = W - L - R;
  const xOf = (ts: number): number => {
    const segs: Segment[] = data.segments;
    for (const g of segs) if (ts >= g.start && ts <= g.end) return L + (g.x0 + ((ts - g.start) / Math.max(1e-9, g.end - g.start)) * (g.x1 - g.x0)) * PW;
    // outside every segment (cannot happen for the data's own times): the nearest edge
    let best = L, dist = Infinity;
    for (const g of segs) for (const [edge, x] of [[g.start, g.x0], [g.end, g.x1]] as const) if (Math.abs(ts - edge) < dist) { dist = Math.abs(ts - edge); best = L + x * PW; }
    return best;
  };
  const axis = (g: SVGElement, top: number, bottom: number): void => {
    // tick labels left to right; one that would run into the previous is shortened to the time, or left out
    let right = -Infinity;
    const CH = 6.2;
    const tick = (x: number, texts: string[], anchorEnd: boolean): void => {
      for (const t of texts) {
        const w = t.length * CH;
        let left = anchorEnd ? x - w : x;
        let end = anchorEnd;
        if (left + w > W) { left = W - 2 - w; end = true; } // past the right edge: ends at it
        if (left < right + 8) continue;
        g.appendChild(sv('text', { x: end ? left + w : left, y: bottom + 14, class: end ? 'tick end' : 'tick' }, t));
        right = left + w;
        return;
      }
    };
    data.segments.forEach((s, i) => {
      const x0 = L + s.x0 * PW, x1 = L + s.x1 * PW;
      g.appendChild(sv('rect', { x: x0, y: top, width: Math.max(1, x1 - x0), height: bottom - top, class: 'seg' }));
      const prev = data.segments[i - 1];
      const sameDay = prev !== undefined && time(prev.start).slice(0, 10) === time(s.start).slice(0, 10);
      tick(x0, sameDay ? [time(s.start, false)] : [time(s.start), time(s.start, false)], false);
      const next = data.segments[i + 1];
      // the end time only where it cannot run into the next segment's start label
      if (x1 - x0 > 140 && (!next || L + next.x0 * PW - x1 > 150)) tick(x1, [time(s.end, false)], true);
      if (next) {
        const bx = (x1 + L + next.x0 * PW) / 2;
        g.appendChild(sv('line', { x1: bx, x2: bx, y1: top, y2: bottom, class: 'break' }));
        g.appendChild(sv('text', { x: bx, y: top - 4, class: 'breaklabel' }, `+${dur(next.start - s.end)}`));
      }
    });
  };

  // ---- timeline: one lane per kind, one mark per alert (updates folded into it)
  const kinds: string[] = [];
  for (const a of data.alerts) if (!kinds.includes(a.kind)) kinds.push(a.kind);
  const LANE = 22, TOP = 18;
  const th = TOP + Math.max(1, kinds.length) * LANE + 24;
  const tl = sv('svg', { id: 'timeline', viewBox: `0 0 ${W} ${th}`, width: '100%', role: 'img' });
  tl.appendChild(sv('title', {}, `timeline: ${data.alerts.length} alerts over packet time`));
  axis(tl, TOP, TOP + Math.max(1, kinds.length) * LANE);
  kinds.forEach((k, i) => {
    const y = TOP + i * LANE + LANE / 2;
    tl.appendChild(sv('text', { x: L - 8, y: y + 4, class: 'lane' }, k));
    tl.appendChild(sv('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'laneline' }));
  });
  data.alerts.forEach((a, i) => {
    const y = TOP + kinds.indexOf(a.kind) * LANE + LANE / 2;
    const g = sv('g', { class: `mark sev-${a.severity}`, 'data-alert': i, tabindex: 0 });
    const xa = xOf(a.ts_first), xb = xOf(a.ts_last);
    if (xb - xa >= 2) g.appendChild(sv('line', { x1: xa, x2: xb, y1: y, y2: y, class: 'spanline' }));
    g.appendChild(sv('circle', { cx: xOf(a.ts), cy: y, r: 5.5 }));
    g.appendChild(sv('title', {}, `${time(a.ts)} ${a.severity} ${a.kind}: ${a.summary}`));
    g.addEventListener('click', () => reveal(i));
    g.addEventListener('keydown', (ev) => { if ((ev as KeyboardEvent).key === 'Enter') reveal(i); });
    tl.appendChild(g);
  });
  root.appendChild(section('Timeline of alerts (packet time)', el('div', { class: 'legend' },
    'one mark per alert at the time it was raised; the line is the span of its evidence; gaps with no traffic are cut (+duration). Click a mark for its evidence.'), tl));

  // ---- rate plot
  const RH = 150, RT = 14;
  const rate = sv('svg', { id: 'rate', viewBox: `0 0 ${W} ${RT + RH + 24}`, width: '100%', role: 'img' });
  const b = data.bucket;
  const perSec = (v: number[] | null): number[] | null => (v ? v.map((n) => n / b) : null);
  const pk = perSec(data.series.packets), evr = perSec(data.series.events)!;
  const ymax = Math.max(1, ...(pk ?? [0]), ...evr);
  axis(rate, RT, RT + RH);
  const plot = (vals: number[], cls: string): void => {
    // one polyline per segment: no line is drawn across a break
    for (const s of data.segments) {
      const pts: string[] = [];
      data.series.t.forEach((t0, i) => {
        if (t0 + b <= s.start || t0 >= s.end) return;
        const mid = Math.min(Math.max(t0 + b / 2, s.start), s.end);
        pts.push(`${xOf(mid).toFixed(1)},${(RT + RH - (vals[i]! / ymax) * RH).toFixed(1)}`);
      });
      if (pts.length === 1) pts.push(pts[0]!.replace(/^[\d.]+/, (x) => String(Number(x) + 1)));
      if (pts.length) rate.appendChild(sv('polyline', { points: pts.join(' '), class: cls }));
    }
  };
  if (pk) plot(pk, 'packets');
  plot(evr, 'events');
  rate.appendChild(sv('text', { x: L - 8, y: RT + 4, class: 'lane' }, `${fmt(Math.round(ymax))}/s`));
  rate.appendChild(sv('text', { x: L - 8, y: RT + RH, class: 'lane' }, '0'));
  root.appendChild(section(pk ? 'Packets and events per second' : 'Events per second', el('div', { class: 'legend' },
    pk ? el('span', { class: 'key packets' }, 'packets/s') : null, el('span', { class: 'key events' }, 'events/s'),
    ` averaged over ${b} s buckets`), rate));

  // ---- alerts with their evidence
  const rows = data.alerts.map((a, i) => {
    const ev = el('details', {}, el('summary', {}, 'evidence'), el('pre', {}, JSON.stringify(a.evidence, null, 2)));
    const pcap = a.pcap !== null && /^[A-Za-z0-9._-]+\.pcap$/.test(a.pcap) ? el('a', { href: a.pcap, class: 'pcap' }, a.pcap) : a.pcap;
    const tr = el('tr', { id: rowId(i), class: `sev-${a.severity}` },
      el('td', { class: 'nowrap' }, time(a.ts)), el('td', {}, el('span', { class: `badge sev-${a.severity}` }, a.severity)),
      el('td', {}, a.kind, a.technique ? el('div', { class: 'dim' }, a.technique) : null),
      el('td', {}, a.src ?? '—'), el('td', {}, hostPort(a)),
      el('td', { class: 'summary' }, el('div', { class: 's' }, a.summary), a.summary_latest !== null ? el('div', { class: 's latest' }, `latest: ${a.summary_latest}`) : null, el('div', { class: 'dim' }, `id ${a.id}` + (a.count > 1 ? ` · ${a.count} detections` : '') + (a.updates > 0 ? ` · ${a.updates} update${a.updates > 1 ? 's' : ''}` : '') + ` · ${dur(a.ts_last - a.ts_first)} of evidence`), pcap ? el('div', { class: 'pcapname' }, 'pcap: ', pcap) : null, ev));
    return tr;
  });
  root.appendChild(section(`Alerts (${data.alerts.length})`, data.alerts.length === 0 ? el('p', {}, 'no alerts') :
    el('table', { id: 'alerts' }, el('thead', {}, el('tr', {}, ...['raised', 'severity', 'kind', 'source', 'destination', 'summary and evidence'].map((h) => el('th', {}, h)))), el('tbody', {}, ...rows))));

  // ---- grouped by attacker and by victim
  const groups = (gs: HostGroup[], peerLabel: string): HTMLElement => table(['host', 'alerts', peerLabel, 'worst', 'span'],
    gs.map((g) => {
      const links = el('div', { class: 'links' });
      g.alerts.forEach((id, i) => { if (i) links.appendChild(document.createTextNode(' ')); links.appendChild(alertLink(id)); });
      return [el('span', { class: 'host' }, g.host), links, g.peers.slice(0, 8).join(', ') + (g.peers.length > 8 ? ` … (+${g.peers.length - 8})` : ''),
        el('span', { class: `badge sev-${g.severity}` }, g.severity), `${time(g.first)} (${dur(g.last - g.first)})`];
    }));
  root.appendChild(el('div', { class: 'two' },
    section('By attacker', groups(data.byAttacker, 'victims')),
    section('By victim', groups(data.byVictim, 'attackers'))));

  // ---- incidents
  if (data.incidents.length) {
    root.appendChild(section(`Incidents (${data.incidents.length})`, table(['incident', 'severity', 'stages', 'attackers → victims', 'summary'],
      data.incidents.map((n) => [n.id, el('span', { class: `badge sev-${n.severity}` }, n.severity), n.stages.join(' → '),
        `${n.attackers.join(', ') || '—'} → ${n.victims.join(', ') || '—'}`, el('div', {}, n.summary, el('div', { class: 'dim' }, `${n.alerts} alerts, ${time(n.ts_first)} (${dur(n.ts_last - n.ts_first)})`))]))));
  }

  // ---- talkers and event counts
  root.appendChild(el('div', { class: 'two' },
    section('Top talkers', data.talkers.length ? table(['host', 'payload bytes', 'flows', 'events sent'], data.talkers.map((h) => [el('span', { class: 'host' }, h.host), fmt(h.bytes), fmt(h.flows), fmt(h.events)]), 'num')
      : el('p', {}, 'no events given')),
    section('Events by type', Object.keys(data.eventCounts).length ? table(['type', 'events'], Object.entries(data.eventCounts).map(([k, n]) => [k, fmt(n)]), 'num')
      : el('p', {}, 'no events given'))));

  if (data.notes.length) root.appendChild(section('Notes', el('ul', {}, ...data.notes.map((n) => el('li', {}, n)))));
  root.appendChild(el('p', { class: 'dim' }, `inputs: ${data.inputs.join(', ')}`));
  document.body.classList.add('ready');
}
