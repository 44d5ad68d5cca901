// Settings mapping: the mpacBridge.* settings the manifest declares are the server's options (the
// names lsp/settings.py reads) plus the extension's own; what the person set becomes the
// initialization options; the dashboard gets the same session.

import './register';

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, test } from 'node:test';
import * as vscode from 'vscode';

import { dashboardLaunch, EXTENSION_ONLY, initializationOptions, needsRestart, SECTION, SERVER_OPTIONS } from '../src/config';
import * as mock from './vscode-mock';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const properties: Record<string, { type: string; default: unknown; enum?: string[]; markdownDescription?: string }> =
  manifest.contributes.configuration.properties;

beforeEach(() => {
  mock.reset();
  mock.loadDefaults(manifest);
});

test('the manifest declares exactly the server options and the extension settings, each described', () => {
  const expected = [...SERVER_OPTIONS, ...EXTENSION_ONLY].map((k) => `${SECTION}.${k}`).sort();
  assert.deepEqual(Object.keys(properties).sort(), expected);
  for (const [key, spec] of Object.entries(properties)) {
    assert.ok((spec.markdownDescription ?? '').length > 20, `${key} has a description`);
  }
  assert.deepEqual(properties['mpacBridge.watch'].enum, ['auto', 'server', 'client', 'off']);
});

test('nothing set: no options, so the server uses its environment and defaults', () => {
  assert.deepEqual(initializationOptions(vscode.workspace.getConfiguration(SECTION)), {});
});

test('what the person set is passed under the same names; empty strings are left out', () => {
  mock.settings.user = {
    'mpacBridge.coordinatorUrl': ' wss://team.example/session/s1 ',
    'mpacBridge.token': '',
    'mpacBridge.user': 'ann',
    'mpacBridge.autoAnnounce': true,
    'mpacBridge.autoAnnounceIdleSec': 30,
    'mpacBridge.debounceMs': 0,
    'mpacBridge.watch': 'server',
    'mpacBridge.command': '/opt/mpac-bridge',
  };
  assert.deepEqual(initializationOptions(vscode.workspace.getConfiguration(SECTION)), {
    coordinatorUrl: 'wss://team.example/session/s1',
    user: 'ann',
    autoAnnounce: true,
    autoAnnounceIdleSec: 30,
    debounceMs: 0,
    watch: 'server',
  });
});

test('a value set back to its default is still passed (the person chose it)', () => {
  mock.settings.user = { 'mpacBridge.autoAnnounce': false };
  assert.deepEqual(initializationOptions(vscode.workspace.getConfiguration(SECTION)), { autoAnnounce: false });
});

test('the dashboard joins the same session: url, token and session in its environment, the name as --as', () => {
  mock.settings.user = { 'mpacBridge.coordinatorUrl': 'ws://h:1', 'mpacBridge.token': 't0k', 'mpacBridge.sessionId': 's1', 'mpacBridge.user': 'ann' };
  assert.deepEqual(dashboardLaunch(vscode.workspace.getConfiguration(SECTION)), {
    args: ['dashboard', '--as', 'ann'],
    env: { MPAC_COORDINATOR_URL: 'ws://h:1', MPAC_COORDINATOR_TOKEN: 't0k', MPAC_SESSION_ID: 's1' },
  });
  mock.settings.user = {};
  assert.deepEqual(dashboardLaunch(vscode.workspace.getConfiguration(SECTION)), { args: ['dashboard'], env: {} });
});

test('changing a server option or the command restarts the server; the trace setting does not', () => {
  const affects = (changed: string) => (section: string) => section === changed;
  assert.equal(needsRestart(affects('mpacBridge.watch')), true);
  assert.equal(needsRestart(affects('mpacBridge.command')), true);
  assert.equal(needsRestart(affects('mpacBridge.trace.server')), false);
  assert.equal(needsRestart(affects('editor.fontSize')), false);
});
