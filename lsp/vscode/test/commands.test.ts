// The commands against a fake session: which server command runs with which file, what is shown,
// the session list behind the status bar, and the dashboard terminal.

import './register';

import * as assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import * as vscode from 'vscode';

import { claimOrRelease, openDashboard, type Session, showSession, whoIsEditing } from '../src/commands';
import type { Summary } from '../src/status';
import * as mock from './vscode-mock';

const folder = { uri: vscode.Uri.file('/ws'), name: 'ws', index: 0 };

class FakeSession implements Session {
  readonly folder = folder;
  calls: { command: string; args: unknown[] }[] = [];
  running = true;
  summary: Summary | undefined;
  constructor(private readonly reply: (command: string, args: unknown[]) => unknown) {}
  execute(command: string, args: unknown[]): Promise<unknown> | undefined {
    this.calls.push({ command, args });
    return this.running ? Promise.resolve(this.reply(command, args)) : undefined;
  }
  latest(): Summary | undefined {
    return this.summary;
  }
  dashboard() {
    return { command: '/ws/.venv/bin/mpac-bridge', args: ['dashboard', '--as', 'ann'], env: { MPAC_SESSION_ID: 's1' } };
  }
}

beforeEach(() => mock.reset());

test('claim runs mpac.claim on the active file and confirms what the server said', async () => {
  mock.openDocument('/ws/src/app.py', "print('app')\n", 'python');
  const s = new FakeSession(() => ({ ok: true, message: 'you now hold src/app.py (intent i-1)' }));
  await claimOrRelease(s, 'mpac.claim');
  assert.deepEqual(s.calls, [{ command: 'mpac.claim', args: ['file:///ws/src/app.py'] }]);
  assert.deepEqual(mock.recorded.messages.map((m) => [m.kind, m.message]), [['info', 'mpac-bridge: you now hold src/app.py (intent i-1)']]);
});

test('release takes the Explorer selection over the active editor; a refusal is left to the server', async () => {
  mock.openDocument('/ws/src/app.py', '', 'python');
  const s = new FakeSession(() => ({ ok: false, message: 'could not release i-1' }));
  await claimOrRelease(s, 'mpac.release', vscode.Uri.file('/ws/src/util.py'));
  assert.deepEqual(s.calls, [{ command: 'mpac.release', args: ['file:///ws/src/util.py'] }]);
  assert.deepEqual(mock.recorded.messages, []); // the server's window/showMessage says why
});

test('no file: a warning, and nothing is sent', async () => {
  const s = new FakeSession(() => ({ ok: true }));
  await claimOrRelease(s, 'mpac.claim');
  assert.deepEqual(s.calls, []);
  assert.match(mock.recorded.messages[0].message, /open a file of the repository first/);
});

test('who is editing: the server text (asked not to show it itself) in a modal', async () => {
  mock.openDocument('/ws/src/app.py', '', 'python');
  const text = 'src/app.py:\n  bob (agent:bob): Refactor (intent i-1, active; expires 10:00:00 UTC)\n  conflict c-1 (scope_overlap, open)';
  const s = new FakeSession(() => ({ ok: true, message: text }));
  await whoIsEditing(s);
  assert.deepEqual(s.calls, [{ command: 'mpac.showWho', args: ['file:///ws/src/app.py', { show: false }] }]);
  const [m] = mock.recorded.messages;
  assert.equal(m.message, 'Who is editing src/app.py');
  assert.deepEqual(m.options, [{ modal: true, detail: 'bob (agent:bob): Refactor (intent i-1, active; expires 10:00:00 UTC)\nconflict c-1 (scope_overlap, open)' }]);
});

test('the session list asks the server for a fresh summary; picking a row opens its file', async () => {
  const fresh: Summary = {
    connection: 'connected', sessionId: 's1', me: 'human:ann@editor', agents: 1, intents: 1, conflicts: 0, error: '', openConflicts: [],
    holders: [{ principalId: 'agent:bob', name: 'bob (agent:bob)', kind: 'agent', intentId: 'i-1', objective: 'Refactor', state: 'active', files: ['src/app.py'], mine: false }],
  };
  const s = new FakeSession((command) => (command === 'mpac.status' ? fresh : undefined));
  mock.recorded.pick = 1;
  await showSession(s);
  assert.deepEqual(s.calls, [{ command: 'mpac.status', args: [] }]);
  const [qp] = mock.recorded.quickPicks;
  assert.deepEqual((qp.items as { label: string }[]).map((i) => i.label), ['Who holds what', '$(hubot) bob (agent:bob)']);
  assert.equal((qp.items as { kind?: number }[])[0].kind, vscode.QuickPickItemKind.Separator);
  assert.deepEqual(mock.recorded.commandsRun.at(-1), { command: 'showTextDocument', args: ['file:///ws/src/app.py'] });
});

test('the session list when joining failed shows why', async () => {
  const s = new FakeSession(() => ({ connection: 'failed', error: 'mpac-bridge: cannot join the coordination session: refused', agents: 0, intents: 0, conflicts: 0, holders: [], openConflicts: [] }));
  await showSession(s);
  assert.deepEqual(mock.recorded.quickPicks, []);
  assert.deepEqual(mock.recorded.messages.map((m) => [m.kind, m.message]), [['error', 'mpac-bridge: cannot join the coordination session: refused']]);
});

test('a server that is not running: nothing is sent further (the session told the person)', async () => {
  mock.openDocument('/ws/src/app.py', '', 'python');
  const s = new FakeSession(() => ({ ok: true, message: 'x' }));
  s.running = false;
  assert.equal(await claimOrRelease(s, 'mpac.claim'), undefined);
  await showSession(s);
  assert.deepEqual(mock.recorded.quickPicks, []);
});

test('the dashboard runs `mpac-bridge dashboard` in a terminal in the workspace folder, once', () => {
  const s = new FakeSession(() => undefined);
  openDashboard(s);
  openDashboard(s); // still running: shown again, not a second one
  assert.equal(mock.recorded.terminals.length, 1);
  assert.deepEqual(mock.recorded.terminals[0], {
    options: { name: 'mpac-bridge dashboard', shellPath: '/ws/.venv/bin/mpac-bridge', shellArgs: ['dashboard', '--as', 'ann'], cwd: '/ws', env: { MPAC_SESSION_ID: 's1' } },
    shown: true,
  });
});
