/**
 * Escaping for the HTML report. Alert text carries attacker-controlled
 * strings (DNS names, User-Agents, URIs, banners): printable ASCII survives
 * src/decode/text.ts unchanged, so `<script>` and `"` arrive here as they were
 * sent. They reach the page in two ways only:
 *  - the few strings the renderer writes into the markup itself (title,
 *    input names) through escapeHtml, for text and double-quoted attributes;
 *  - everything else as JSON inside <script type="application/json">, through
 *    jsonForScript, which the page's script reads and puts into the DOM with
 *    textContent / setAttribute, never as markup.
 */

const HTML: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML text node or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}

/**
 * JSON that can sit inside a <script> element: `<`, `>` and `&` become \u003c,
 * \u003e, \u0026, so neither `</script>` nor `<!--` (which switches the HTML
 * parser into the "script data escaped" state) can appear, and U+2028/U+2029
 * are escaped for older JavaScript parsers. JSON.parse gives back the same value.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
