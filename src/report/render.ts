/**
 * The report renderer: ReportData → one self-contained HTML page. Styles and
 * the script are inline, the charts are SVG the script draws; nothing is
 * fetched (no CDN, no font, no image), so the file works offline and can be
 * mailed or attached to a ticket.
 *
 * Attacker-controlled text never becomes markup: the data goes in as JSON in
 * <script type="application/json"> (escape.ts: no `</script>`, no `<!--`) and
 * the script (client.ts) writes it with textContent. The few strings written
 * into the markup here (title, input names) go through escapeHtml. On top, a
 * Content-Security-Policy allows only this page's own script and style (by
 * hash) and no network at all (default-src 'none'), so even a bug in the
 * escaping could neither run a script nor fetch anything.
 */
import { createHash } from 'node:crypto';
import type { ReportData } from './model.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { tapwatchReport } from './client.js';

const CSS = `
:root{--bg:#f6f7f9;--fg:#1d232b;--dim:#66707c;--line:#d8dde3;--card:#fff;--low:#4d8fd1;--medium:#e0a020;--high:#e0622a;--critical:#c21d3a;--ev:#3a9d6b;--pk:#7a5bd0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:var(--bg);color:var(--fg)}
header{padding:14px 22px 6px;background:#1d232b;color:#fff}
header h1{margin:0;font-size:19px;font-weight:600}
header .sub{color:#aeb7c2;font-size:12px;margin-top:2px;overflow-wrap:anywhere}
main{padding:6px 22px 30px;max-width:1400px}
.meta{color:var(--dim);margin:8px 0}
h2{font-size:15px;margin:18px 0 6px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 14px 12px;margin:12px 0}
.two{display:grid;grid-template-columns:1fr 1fr;gap:12px}.two>section{margin:0}
@media (max-width:900px){.two{grid-template-columns:1fr}}
.cards{display:flex;gap:10px;flex-wrap:wrap}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:6px 14px;min-width:92px}
.card .v{font-size:20px;font-weight:600}.card .l{color:var(--dim);font-size:12px}
.card.sev-critical .v{color:var(--critical)}.card.sev-high .v{color:var(--high)}.card.sev-medium .v{color:#b07c00}.card.sev-low .v{color:var(--low)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:var(--dim);font-weight:600}
table.num td+td{text-align:right;font-variant-numeric:tabular-nums}
td.summary{overflow-wrap:anywhere;max-width:640px}
.s.latest{color:#3c4650;font-size:13px}
.nowrap{white-space:nowrap;font-variant-numeric:tabular-nums}
.dim,.legend{color:var(--dim);font-size:12px}
.host{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.two td:first-child{min-width:9em}
.badge{display:inline-block;padding:0 6px;border-radius:9px;color:#fff;font-size:12px}
.badge.sev-low{background:var(--low)}.badge.sev-medium{background:var(--medium)}.badge.sev-high{background:var(--high)}.badge.sev-critical{background:var(--critical)}
.links a{margin-right:4px;text-decoration:none;border-bottom:2px solid;color:var(--fg)}
a.sev-low{border-color:var(--low)}a.sev-medium{border-color:var(--medium)}a.sev-high{border-color:var(--high)}a.sev-critical{border-color:var(--critical)}
details summary{cursor:pointer;color:var(--dim);font-size:12px}
pre{background:#f0f2f5;padding:6px 8px;border-radius:4px;max-height:320px;overflow:auto;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
tr.flash td{background:#fff4c2}
svg text{font-size:11px;fill:var(--dim)}
svg .lane{text-anchor:end;fill:var(--fg)}
svg .tick.end{text-anchor:end}
svg .breaklabel{text-anchor:middle;font-size:10px}
svg .seg{fill:#f3f5f8}
svg .break{stroke:#9aa4af;stroke-dasharray:3 3}
svg .laneline{stroke:#e6e9ed}
.mark{cursor:pointer}.mark circle{stroke:#fff;stroke-width:1.5}.mark .spanline{stroke-width:3;opacity:.45}
.mark.sev-low circle{fill:var(--low)}.mark.sev-medium circle{fill:var(--medium)}.mark.sev-high circle{fill:var(--high)}.mark.sev-critical circle{fill:var(--critical)}
.mark.sev-low .spanline{stroke:var(--low)}.mark.sev-medium .spanline{stroke:var(--medium)}.mark.sev-high .spanline{stroke:var(--high)}.mark.sev-critical .spanline{stroke:var(--critical)}
.mark:hover circle,.mark:focus circle{stroke:#1d232b}
polyline{fill:none;stroke-width:1.6}polyline.events{stroke:var(--ev)}polyline.packets{stroke:var(--pk)}
.key{margin-right:12px}.key:before{content:"";display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}
.key.events:before{background:var(--ev)}.key.packets:before{background:var(--pk)}
`;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64');

/** The whole page. */
export function renderReport(data: ReportData): string {
  const script = `(${tapwatchReport.toString()})();`;
  const csp = `default-src 'none'; script-src 'sha256-${sha256(script)}'; style-src 'sha256-${sha256(CSS)}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<header><h1>${escapeHtml(data.title)}</h1><div class="sub">${escapeHtml(data.inputs.join(' · '))}</div></header>`,
    '<main id="report"><noscript><p>This report draws its tables and charts with JavaScript (inline, nothing is fetched); the data is in the page as JSON.</p></noscript></main>',
    `<script type="application/json" id="tapwatch-data">${jsonForScript(data)}</script>`,
    `<script>${script}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
