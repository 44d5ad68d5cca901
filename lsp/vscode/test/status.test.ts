// The status bar: "N agents · M intents · K conflicts" from the server's summary, the states
// around it, and the list of who holds what behind it.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { barState, countsText, sessionItems, type Summary } from '../src/status';

function summary(over: Partial<Summary> = {}): Summary {
  return {
    connection: 'connected', sessionId: 's-1', me: 'human:ann@editor', agents: 2, intents: 3, conflicts: 0,
    holders: [], openConflicts: [], error: '', ...over,
  };
}

test('the counts read "N agents · M intents · K conflicts", singular for one', () => {
  assert.equal(countsText({ agents: 2, intents: 3, conflicts: 0 }), '2 agents · 3 intents · 0 conflicts');
  assert.equal(countsText({ agents: 1, intents: 1, conflicts: 1 }), '1 agent · 1 intent · 1 conflict');
});

test('connected: the counts with an icon; a conflict turns the item to a warning', () => {
  assert.deepEqual(barState(summary(), 'running'), {
    text: '$(organization) 2 agents · 3 intents · 0 conflicts',
    tooltip: 'mpac-bridge session s-1, you are human:ann@editor. Click to see who holds what.',
    warning: false,
  });
  assert.equal(barState(summary({ conflicts: 1 }), 'running').warning, true);
});

test('the states around the counts: joining, reconnecting, failed, stopped, not found', () => {
  assert.equal(barState(undefined, 'starting').text, '$(sync~spin) mpac-bridge');
  assert.equal(barState(summary({ connection: 'connecting' }), 'running').text, '$(sync~spin) mpac-bridge');
  const reconnecting = barState(summary({ connection: 'reconnecting' }), 'running');
  assert.equal(reconnecting.text, '$(sync~spin) 2 agents · 3 intents · 0 conflicts');
  assert.match(reconnecting.tooltip, /reconnecting/);
  const failed = barState(summary({ connection: 'failed', error: 'mpac-bridge: the workspace is not inside a git repository' }), 'running');
  assert.equal(failed.text, '$(error) mpac-bridge');
  assert.equal(failed.tooltip, 'mpac-bridge: the workspace is not inside a git repository');
  assert.equal(barState(summary(), 'stopped').text, '$(circle-slash) mpac-bridge stopped');
  assert.equal(barState(undefined, 'not-found').text, '$(warning) mpac-bridge not found');
});

test('the list: one row per intent (agents and people), then the conflicts; a row opens its first file', () => {
  const items = sessionItems(summary({
    holders: [
      { principalId: 'agent:bob', name: 'bob (agent:bob)', kind: 'agent', intentId: 'i-1', objective: 'Refactor', state: 'active', files: ['src/*.py', 'src/app.py'], mine: false },
      { principalId: 'human:ann@editor', name: 'ann (human:ann@editor)', kind: 'human', intentId: 'i-2', objective: 'Docs', state: 'suspended', files: ['README.md'], mine: true },
    ],
    openConflicts: [{ conflictId: 'c-1', category: 'scope_overlap', state: 'open', principals: ['bob (agent:bob)', 'ann (human:ann@editor)'], description: 'both on src' }],
  }));
  assert.deepEqual(items.map((i) => i.label), ['Who holds what', '$(hubot) bob (agent:bob)', '$(person) ann (human:ann@editor) (you)', 'Conflicts', '$(warning) c-1']);
  assert.equal(items[1].description, 'Refactor');
  assert.equal(items[1].detail, 'src/*.py, src/app.py · intent i-1');
  assert.equal(items[1].file, 'src/app.py'); // the glob is not a file to open
  assert.equal(items[2].description, 'Docs (suspended, can be taken over)');
  assert.equal(items[4].description, 'scope_overlap, open: bob (agent:bob) and ann (human:ann@editor)');
  assert.equal(items[4].detail, 'both on src');
});

test('an empty session says so', () => {
  const [only, ...rest] = sessionItems(summary({ agents: 0, intents: 0 }));
  assert.equal(only.label, 'Nobody has announced an intent');
  assert.equal(only.description, '0 agents · 0 intents · 0 conflicts');
  assert.deepEqual(rest, []);
});
