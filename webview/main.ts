/**
 * RouteLens dashboard webview. Loaded by the extension's panel under a strict CSP
 * (default-src 'none', nonce'd script): no inline handlers, no eval, no remote resources.
 * Everything from the agent is shown as text (see dom.ts `clean`).
 */
import { assertNever } from '../protocol/messages';
import { DASHBOARD_TABS as TABS, type DashboardTab, type HostToWebview } from '../protocol/webview';
import { clean, h } from './dom';
import { Commands, StatusLine, isHostMessage, vscodeApi } from './host';
import { type Area, Store, readPersisted } from './state';
import { AlertsView } from './views/alerts';
import { CacheView } from './views/cache';
import { DetailsView } from './views/details';
import { EndpointsView } from './views/endpoints';
import { HistoryView } from './views/history';
import { OverviewView } from './views/overview';
import { RateLimitsView } from './views/rateLimits';
import { SlowView } from './views/slow';
import { SystemView } from './views/system';
import type { Ctx, View } from './views/view';

const TAB_LABELS: Record<DashboardTab, string> = {
  overview: 'Overview',
  endpoints: 'Endpoints',
  cache: 'Cache',
  rateLimits: 'Rate limits',
  alerts: 'Alerts',
  slow: 'Slow requests',
  system: 'System',
  history: 'History',
  details: 'Route details',
};

/** How often series are written to setState at most (UI choices are written at once). */
const PERSIST_MS = 2000;

function start(): void {
  const api = vscodeApi();
  const store = new Store();
  const persisted = readPersisted(api.getState());
  if (persisted) store.restore(persisted);

  const statusEl = h('div', { class: 'status' });
  const status = new StatusLine(statusEl);
  const commands = new Commands(api, status);

  let frame = 0;
  const invalidate = () => {
    if (frame === 0) frame = requestAnimationFrame(renderNow);
  };
  // The History tab follows the endpoint opened last.
  const openEndpoint = (id: string) => store.setUi({ tab: 'endpoints', selectedEndpoint: id, historyEndpoint: id });
  const ctx: Ctx = { store, commands, api, openEndpoint, invalidate };

  // ---- shell
  const agentPicker = h('select', { attrs: { 'aria-label': 'Agent' } });
  agentPicker.addEventListener('change', () => {
    if (agentPicker.value) api.postMessage({ type: 'selectAgent', agentId: agentPicker.value });
  });
  const agentLabel = h('span', { class: 'agent-label muted' });
  const tablist = h('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Dashboard sections' } });
  const waiting = h('div', { class: 'empty waiting' }, h('p', { text: 'Waiting for an agent…' }), h('p', { class: 'muted', text: 'Start your app with RouteLens (node --import routelens/register app.js); it will show up here.' }));
  // The extension's page has <div id="app" role="main">; outside it, mount on <body>.
  const mountPoint = document.getElementById('app');
  const main = h(mountPoint ? 'div' : 'main', { class: 'panels' });
  const details = new DetailsView(ctx);
  const views = new Map<DashboardTab, View>([
    ['overview', new OverviewView(ctx)],
    ['endpoints', new EndpointsView(ctx)],
    ['cache', new CacheView(ctx)],
    ['rateLimits', new RateLimitsView(ctx)],
    ['alerts', new AlertsView(ctx)],
    ['slow', new SlowView(ctx)],
    ['system', new SystemView(ctx)],
    ['history', new HistoryView(ctx)],
    ['details', details],
  ]);
  const tabButtons = new Map<DashboardTab, HTMLButtonElement>();
  const panels = new Map<DashboardTab, HTMLElement>();
  for (const tab of TABS) {
    const b = h('button', { class: 'tab', text: TAB_LABELS[tab], attrs: { role: 'tab', id: `tab-${tab}`, 'aria-controls': `panel-${tab}` } });
    b.dataset.tab = tab;
    b.addEventListener('click', () => store.setUi({ tab }));
    tabButtons.set(tab, b);
    tablist.append(b);
    const panel = h('div', { class: 'panel', attrs: { role: 'tabpanel', id: `panel-${tab}`, 'aria-labelledby': `tab-${tab}`, tabindex: 0 } }, views.get(tab)!.el);
    panels.set(tab, panel);
    main.append(panel);
  }
  tablist.addEventListener('keydown', (ev) => {
    const i = TABS.indexOf(store.ui.tab);
    const next = ev.key === 'ArrowRight' ? (i + 1) % TABS.length : ev.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : ev.key === 'Home' ? 0 : ev.key === 'End' ? TABS.length - 1 : -1;
    if (next < 0) return;
    ev.preventDefault();
    store.setUi({ tab: TABS[next]! });
    tabButtons.get(TABS[next]!)!.focus();
  });
  (mountPoint ?? document.body).append(
    h('header', { class: 'top' }, h('h1', { text: 'RouteLens' }), agentLabel, agentPicker, statusEl),
    tablist,
    waiting,
    main,
  );

  let shownTab: DashboardTab | null = null;
  let agentsRev = -1;
  function renderNow(): void {
    frame = 0;
    const tab = store.ui.tab;
    if (tab !== shownTab) {
      for (const [t, b] of tabButtons) {
        b.setAttribute('aria-selected', String(t === tab));
        b.tabIndex = t === tab ? 0 : -1;
        panels.get(t)!.hidden = t !== tab;
      }
      shownTab = tab;
    }
    if (agentsRev !== store.rev.agents) {
      agentsRev = store.rev.agents;
      renderAgents();
    }
    waiting.hidden = store.hasSnapshot;
    main.hidden = !store.hasSnapshot;
    if (store.hasSnapshot) views.get(tab)!.render();
  }

  function renderAgents(): void {
    const many = store.agents.length > 1;
    agentPicker.hidden = !many;
    if (many) {
      agentPicker.replaceChildren(
        ...store.agents.map((a) => {
          const o = h('option', { text: `${a.name} (pid ${a.pid}) · ${a.state}`, attrs: { value: a.id } });
          o.selected = a.id === store.selectedAgent;
          return o;
        }),
      );
    }
    const sel = store.agents.find((a) => a.id === store.selectedAgent);
    const name = sel ? `${sel.name} (pid ${sel.pid})` : store.agent ? `${store.agent.name} (pid ${store.agent.pid})` : '';
    agentLabel.textContent = clean(many ? (sel && sel.state !== 'connected' ? sel.state : '') : [name, sel && sel.state !== 'connected' ? sel.state : ''].filter(Boolean).join(' · '));
  }

  // ---- persistence: UI choices at once, series at most every PERSIST_MS
  let persistTimer: ReturnType<typeof setTimeout> | undefined;
  const persistNow = () => {
    if (persistTimer !== undefined) clearTimeout(persistTimer);
    persistTimer = undefined;
    api.setState(store.persisted());
  };
  store.onChange((areas: Set<Area>) => {
    invalidate();
    if (areas.has('ui')) persistNow();
    else if (areas.has('series') && persistTimer === undefined) persistTimer = setTimeout(persistNow, PERSIST_MS);
  });

  // ---- messages from the host
  window.addEventListener('message', (ev: MessageEvent) => {
    if (!isHostMessage(ev.data)) return;
    handle(ev.data);
  });
  function handle(msg: HostToWebview): void {
    switch (msg.type) {
      case 'agents':
        store.setAgents(msg.agents, msg.selected);
        break;
      case 'snapshot':
        store.applySnapshot(msg.agentId, msg.snapshot);
        break;
      case 'delta':
        store.applyDelta(msg.agentId, msg.delta);
        break;
      case 'reply':
        commands.handleReply(msg);
        break;
      case 'focusEndpoint':
        openEndpoint(msg.endpointId);
        break;
      case 'showTab':
        if ((TABS as readonly string[]).includes(msg.tab)) store.setUi({ tab: msg.tab });
        break;
      case 'showDetails':
        store.setUi({ tab: 'details', selectedEndpoint: msg.endpointId });
        details.load(true);
        break;
      case 'profile':
        if (msg.agentId === store.agentId || store.agentId === null) details.setProfile(msg.summary);
        break;
      default:
        assertNever(msg, 'host message');
    }
  }

  renderNow();
  api.postMessage({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
