// What the status bar item says, and the list behind it, from the server's session summary
// (the mpac/status notification or the mpac.status command; see lsp/status.py). Pure.

export interface Holder {
  principalId: string;
  name: string;
  kind: string;
  intentId: string;
  objective: string;
  state: string;
  files: string[];
  mine: boolean;
}

export interface ConflictInfo {
  conflictId: string;
  category: string | null;
  state: string;
  principals: string[];
  description: string;
}

export interface Summary {
  connection: string; // connecting | connected | reconnecting | failed | disconnected | closed
  sessionId: string;
  me: string;
  agents: number;
  intents: number;
  conflicts: number;
  holders: Holder[];
  openConflicts: ConflictInfo[];
  error: string;
}

export const STATUS_NOTIFICATION = 'mpac/status';
export const STATUS_COMMAND = 'mpac.status';

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "2 agents · 3 intents · 1 conflict" */
export function countsText(s: Pick<Summary, 'agents' | 'intents' | 'conflicts'>): string {
  return [count(s.agents, 'agent', 'agents'), count(s.intents, 'intent', 'intents'), count(s.conflicts, 'conflict', 'conflicts')].join(' · ');
}

export interface BarState {
  text: string;
  tooltip: string;
  warning: boolean; // draw it with the warning background
}

/** The status bar item for a summary, or for the client's own state when there is none yet. */
export function barState(s: Summary | undefined, clientState: 'starting' | 'running' | 'stopped' | 'not-found'): BarState {
  if (clientState === 'not-found') {
    return { text: '$(warning) mpac-bridge not found', tooltip: 'mpac-bridge was not found: click for how to install it', warning: true };
  }
  if (clientState === 'stopped') {
    return { text: '$(circle-slash) mpac-bridge stopped', tooltip: 'The mpac-bridge language server is not running: click for the log', warning: true };
  }
  if (s === undefined || s.connection === 'connecting' || s.connection === 'disconnected') {
    return { text: '$(sync~spin) mpac-bridge', tooltip: 'mpac-bridge: joining the coordination session…', warning: false };
  }
  if (s.connection === 'failed') {
    return { text: '$(error) mpac-bridge', tooltip: s.error || 'mpac-bridge could not join the coordination session', warning: true };
  }
  const counts = countsText(s);
  if (s.connection === 'reconnecting') {
    return { text: `$(sync~spin) ${counts}`, tooltip: 'mpac-bridge: lost the coordinator, reconnecting (the counts may be out of date)', warning: true };
  }
  return {
    text: `$(organization) ${counts}`,
    tooltip: `mpac-bridge session ${s.sessionId}, you are ${s.me}. Click to see who holds what.`,
    warning: s.conflicts > 0,
  };
}

export interface ListItem {
  label: string;
  description?: string;
  detail?: string;
  file?: string; // a repository-relative path to open when picked
  kind?: 'separator';
}

/** Who holds what (one row per live intent), then the unresolved conflicts. */
export function sessionItems(s: Summary): ListItem[] {
  const items: ListItem[] = [];
  if (s.holders.length === 0) {
    items.push({ label: 'Nobody has announced an intent', description: countsText(s) });
  } else {
    items.push({ label: 'Who holds what', kind: 'separator' });
  }
  for (const h of s.holders) {
    const icon = h.kind === 'agent' ? '$(hubot)' : '$(person)';
    const state = h.state === 'active' ? '' : ` (${h.state}${h.state === 'suspended' ? ', can be taken over' : ''})`;
    items.push({
      label: `${icon} ${h.name}${h.mine ? ' (you)' : ''}`,
      description: `${h.objective}${state}`,
      detail: `${h.files.join(', ') || '(no files)'} · intent ${h.intentId}`,
      file: h.files.find((f) => !/[*?[\]{}]/.test(f)),
    });
  }
  if (s.openConflicts.length > 0) {
    items.push({ label: 'Conflicts', kind: 'separator' });
    for (const c of s.openConflicts) {
      items.push({
        label: `$(warning) ${c.conflictId}`,
        description: `${c.category ?? 'conflict'}, ${c.state}: ${c.principals.join(' and ')}`,
        detail: c.description || undefined,
      });
    }
  }
  return items;
}
