/**
 * The status page, `GET /` on both HTTP servers: one static HTML document with an inline style and
 * script, no framework, nothing fetched from elsewhere (it works without internet). It holds no data and
 * no secret: its script reads `GET /v1/status` (lib/commands/statusSummary.ts) from the same origin, with
 * whatever auth the browser already uses for the page (HTTP Basic on the local runner), every
 * `refreshMs` while the tab is visible, and renders it.
 *
 * Everything the summary holds (master and host names come from configuration and Redis) is put into
 * the page as text (textContent, createTextNode, SVG text nodes), never as markup, so nothing in it can
 * become HTML. The Content-Security-Policy allows only this script and this style (by hash) and requests
 * to this origin, and no framing.
 *
 * For tests and scrapers: each master's current address is the text (`<ip>:<port>`) of the element
 * `data-master="<name>"`; each failover's timeline is the element `data-failover-epoch="<epoch>"`
 * (with `data-failover-master="<name>"`).
 */
import { createHash } from 'node:crypto';
import { TIMELINE_LABELS } from '../commands/statusSummary.js';
import type { ApiResponse } from './router.js';

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #667085; --line: #d6dae1; --ok: #1a7f37;
  --warn: #b35900; --bad: #c62828; --accent: #2457c5; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #fff;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 22px 0 8px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
h3 { font-size: 16px; margin: 0 0 8px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
main { padding: 0 20px 30px; max-width: 1200px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
  margin-bottom: 12px; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: #fff; background: var(--ok); }
.badge.sdown { background: var(--warn); } .badge.odown, .badge.failover, .badge.aborted { background: var(--bad); }
.badge.switched, .badge.in-progress, .badge.superseded { background: var(--warn); }
.state { color: var(--muted); } .state.error { color: var(--bad); font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0 0 8px; color: var(--muted); }
.facts b { color: var(--fg); font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td { white-space: nowrap; } td:last-child { white-space: normal; }
.yes { color: var(--ok); font-weight: 600; } .no { color: var(--bad); } .muted { color: var(--muted); }
.events { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px;
  max-height: 320px; overflow-y: auto; }
.events div { white-space: pre-wrap; word-break: break-all; }
.events .warning { color: var(--bad); }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg .ms { fill: var(--muted); }
`;

/** The page's script. Plain ES2020 in the browser; it only ever sets text, never markup. */
const SCRIPT = `
'use strict';
(() => {
  const LABELS = ${JSON.stringify(TIMELINE_LABELS)};
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const ERROR_RETRY_MS = 5000;
  const byId = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const svg = (tag, attrs, text) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const dash = '\\u2014';
  const ms = (n) => (n === null || n === undefined ? dash : n < 1000 ? n + ' ms' : (n / 1000).toFixed(1) + ' s');
  const ago = (n) => (n === null || n === undefined ? 'never' : ms(n) + ' ago');
  const clock = (t) => new Date(t).toISOString().slice(11, 23);
  const table = (headers, rows) =>
    el('table', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h))),
      ...rows.map((cells) => el('tr', {}, ...cells.map((c) => (c instanceof Node && c.nodeName === 'TD' ? c : el('td', {}, c))))));
  const facts = (pairs) => el('div', { class: 'facts' }, ...pairs.map(([k, v]) => el('span', {}, k + ' ', el('b', {}, v))));

  function renderMasters(masters) {
    const root = byId('masters');
    root.replaceChildren();
    if (masters.length === 0) root.append(el('p', { class: 'muted' }, 'No master is monitored.'));
    for (const m of masters) {
      const card = el('section', { class: 'card' });
      card.append(el('h3', {}, m.name, el('code', { 'data-master': m.name }, m.ip + ':' + m.port),
        el('span', { class: 'badge ' + m.state }, m.state)));
      card.append(facts([
        ['config epoch', m.configEpoch], ['current epoch', m.currentEpoch],
        ['leader', m.leader === null ? dash : m.leader + (m.leaderLeaseLeftMs === null ? '' : ' (lease ' + ms(m.leaderLeaseLeftMs) + ' left)')],
        ['failover', m.failoverState], ['down votes', m.downVotes + ' / quorum ' + m.quorum],
        ['flags', m.flags.join(',')],
      ]));
      if (m.replicas.length === 0) card.append(el('p', { class: 'muted' }, 'No replica known.'));
      else card.append(table(['replica', 'role', 'link', 'offset', 'lag', 'flags', 'promotion', 'why'],
        m.replicas.map((r) => [
          el('td', { class: 'mono' }, r.ip + ':' + r.port), r.role, r.link,
          r.offset === null ? dash : r.offset,
          (r.lagBytes === null ? dash : r.lagBytes + ' B') + (r.lagSeconds === null ? '' : ' / ' + r.lagSeconds + ' s'),
          r.flags.join(','),
          el('td', { class: r.chosen ? 'yes' : r.eligible === false ? 'no' : 'muted' },
            r.chosen ? 'would be chosen' : r.eligible === true ? 'eligible' : r.eligible === false ? 'excluded' : 'unknown'),
          r.why,
        ])));
      root.append(card);
    }
  }

  function renderSentinels(sentinels) {
    // The summary line is shown only when some sentinel wrote one.
    const summaries = sentinels.some((s) => s.summary !== null);
    byId('sentinels').replaceChildren(el('div', { class: 'card' }, table(
      ['sentinel', 'last tick (heartbeat)', 'lease', 'tilt', 'votes', 'leads', ...(summaries ? ['summary'] : [])],
      sentinels.map((s) => [
        el('td', { class: s.stale ? 'no' : '' }, s.id + (s.stale ? ' (down)' : '')),
        ago(s.lastHeartbeatAgoMs),
        s.lease === null ? 'none' : (s.lease.held ? 'held, ' + ms(s.lease.leftMs) + ' left' : 'released') + ' (token ' + s.lease.token + ')',
        s.tilt ? 'TILT' : 'no',
        s.votes.length === 0 ? dash : s.votes.map((v) => v.master + ': ' + (v.down ? 'down' : 'up') + ' ' + ago(v.observedAgoMs) + (v.down && v.ignored ? ' (not counted: ' + v.ignored + ')' : '')).join('; '),
        s.leads.length === 0 ? dash : s.leads.map((l) => l.master + ' epoch ' + l.epoch).join('; '),
        ...(summaries ? [el('td', { class: 'mono muted' }, s.summary === null ? '' : s.summary)] : []),
      ]))));
  }

  function timelineChart(f) {
    const rowH = 20, labelW = 150, width = 640, barW = width - labelW - 80;
    const span = Math.max(f.totalMs, 1);
    const chart = svg('svg', { width, height: f.steps.length * rowH + 6, viewBox: '0 0 ' + width + ' ' + (f.steps.length * rowH + 6), role: 'img' });
    chart.append(svg('title', {}, f.master + ' failover, epoch ' + f.epoch + ': ' + ms(f.totalMs)));
    f.steps.forEach((s, i) => {
      const y = i * rowH + 4;
      chart.append(svg('text', { x: 0, y: y + 13 }, LABELS[s.step] || s.step));
      chart.append(svg('line', { x1: labelW, x2: labelW + barW, y1: y + 9, y2: y + 9, stroke: '#d6dae1' }));
      if (s.ms === null) { chart.append(svg('text', { x: labelW + 4, y: y + 13, class: 'ms' }, 'not seen')); return; }
      const w = Math.max(2, (Math.max(0, s.ms) / span) * barW);
      chart.append(svg('rect', { x: labelW, y: y + 3, width: w, height: 12, rx: 2, fill: i < 2 ? '#b35900' : i < 4 ? '#2457c5' : '#1a7f37' }));
      chart.append(svg('text', { x: labelW + w + 6, y: y + 13, class: 'ms' }, '+' + s.ms + ' ms'));
    });
    return chart;
  }

  function renderFailovers(failovers) {
    const root = byId('failovers');
    root.replaceChildren();
    if (failovers.length === 0) root.append(el('p', { class: 'muted' }, 'No failover in the recent events.'));
    for (const f of failovers) {
      root.append(el('section', { class: 'card', 'data-failover-epoch': f.epoch, 'data-failover-master': f.master },
        el('h3', {}, f.master + ' epoch ' + f.epoch,
          el('span', { class: 'mono' }, (f.from || '?') + ' \\u2192 ' + (f.to || '?')),
          el('span', { class: 'badge ' + f.outcome.replace(' ', '-') }, f.outcome),
          el('span', { class: 'muted' }, 'started ' + clock(f.startedAt) + ' UTC, ' + ms(f.totalMs) + ' in all')),
        timelineChart(f)));
    }
  }

  function renderEvents(events) {
    const root = byId('events');
    const atBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 30;
    root.replaceChildren(...events.map((e) =>
      el('div', { class: 'mono ' + e.level }, clock(e.at) + ' [' + e.sentinelId + '] ' + e.type + ' ' + e.payload)));
    if (events.length === 0) root.append(el('div', { class: 'muted' }, 'No event yet.'));
    if (atBottom) root.scrollTop = root.scrollHeight;
  }

  function setState(kind, text) {
    const node = byId('state');
    node.className = 'state ' + kind;
    node.textContent = text;
  }

  let refreshMs = 1000;
  let timer = null;
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    clearTimeout(timer);
    let next = refreshMs;
    try {
      const response = await fetch('v1/status', { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
      const body = await response.json().catch(() => null);
      if (!response.ok || body === null) throw new Error(body && body.error ? body.error + ' (' + response.status + ')' : 'HTTP ' + response.status);
      renderMasters(body.masters);
      renderSentinels(body.sentinels);
      renderFailovers(body.failovers);
      renderEvents(body.events);
      refreshMs = body.refreshMs || refreshMs;
      next = refreshMs;
      setState('live', 'live, updated ' + clock(body.generatedAt) + ' UTC' + (body.observer ? ', probes as seen by ' + body.observer : ''));
    } catch (error) {
      next = Math.max(refreshMs, ERROR_RETRY_MS);
      setState('error', 'cannot read the status: ' + (error && error.message ? error.message : String(error)));
    } finally {
      busy = false;
      if (!document.hidden) timer = setTimeout(refresh, next);
    }
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  refresh();
})();
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lambda-sentinel status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>lambda-sentinel</h1><span id="state" class="state">loading…</span></header>
<main>
<noscript><p>This page needs JavaScript. <code>lambda-sentinel status</code> prints the same summary in a terminal.</p></noscript>
<h2>Masters</h2><div id="masters"></div>
<h2>Sentinels</h2><div id="sentinels"></div>
<h2>Failovers</h2><div id="failovers"></div>
<h2>Events</h2><div id="events" class="events"></div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style, requests to its own origin, and no framing. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function statusPageResponse(): ApiResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': STATUS_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body: HTML,
  };
}
