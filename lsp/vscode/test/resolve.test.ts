// Command resolution: the mpacBridge.command setting, else the workspace's .venv, else PATH, else a
// message with the install command.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { INSTALL_HINT, type Host, resolveCommand, which } from '../src/resolve';

function host(executables: string[], pathVar = '/usr/local/bin:/usr/bin', platform = 'linux'): Host {
  const set = new Set(executables);
  return { platform, env: { PATH: pathVar }, isExecutable: (f) => set.has(f) };
}

test('the setting wins over the .venv and PATH', () => {
  const h = host(['/opt/mb/bin/mpac-bridge', '/ws/.venv/bin/mpac-bridge', '/usr/bin/mpac-bridge']);
  assert.deepEqual(resolveCommand('/opt/mb/bin/mpac-bridge', '/ws', h), { ok: true, command: '/opt/mb/bin/mpac-bridge', source: 'setting' });
});

test('a relative setting is taken from the workspace folder; a bare name is looked up on PATH', () => {
  const h = host(['/ws/tools/mpac-bridge', '/usr/bin/mb']);
  assert.deepEqual(resolveCommand('tools/mpac-bridge', '/ws', h), { ok: true, command: '/ws/tools/mpac-bridge', source: 'setting' });
  assert.deepEqual(resolveCommand('mb', '/ws', h), { ok: true, command: '/usr/bin/mb', source: 'setting' });
});

test('a setting that points nowhere is reported, not silently replaced by the .venv', () => {
  const h = host(['/ws/.venv/bin/mpac-bridge']);
  const r = resolveCommand('/nope/mpac-bridge', '/ws', h);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.message.includes('mpacBridge.command is set to /nope/mpac-bridge') && r.message.includes(INSTALL_HINT));
  const bare = resolveCommand('missing-tool', '/ws', h);
  assert.ok(!bare.ok && bare.message.includes('not on PATH'));
});

test('an empty setting falls back to the workspace .venv, then PATH', () => {
  assert.deepEqual(resolveCommand('  ', '/ws', host(['/ws/.venv/bin/mpac-bridge', '/usr/bin/mpac-bridge'])),
    { ok: true, command: '/ws/.venv/bin/mpac-bridge', source: 'venv' });
  assert.deepEqual(resolveCommand(undefined, '/ws', host(['/usr/bin/mpac-bridge'])),
    { ok: true, command: '/usr/bin/mpac-bridge', source: 'path' });
  assert.deepEqual(resolveCommand(undefined, undefined, host(['/usr/local/bin/mpac-bridge', '/usr/bin/mpac-bridge'])),
    { ok: true, command: '/usr/local/bin/mpac-bridge', source: 'path' });
});

test('nothing found: the message names the places looked at and how to install', () => {
  const r = resolveCommand('', '/ws', host([]));
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.message.startsWith("mpac-bridge was not found (not in mpacBridge.command, the workspace's .venv or PATH)"));
  assert.ok(!r.ok && r.message.includes('pipx install') && r.message.includes('python3 -m pip install'));
});

test('Windows: .venv\\Scripts and PATHEXT', () => {
  const h: Host = { platform: 'win32', env: { Path: 'C:\\py;C:\\tools', PATHEXT: '.COM;.EXE' }, isExecutable: (f) => f === 'C:\\tools\\mpac-bridge.exe' || f === 'C:\\ws\\.venv\\Scripts\\mpac-bridge.exe' };
  assert.deepEqual(resolveCommand('', 'C:\\ws', h), { ok: true, command: 'C:\\ws\\.venv\\Scripts\\mpac-bridge.exe', source: 'venv' });
  assert.equal(which('mpac-bridge', h), 'C:\\tools\\mpac-bridge.exe');
});

test('against a real directory: an executable .venv script is found, a non-executable one is not', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-resolve-'));
  try {
    const bin = path.join(ws, '.venv', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const script = path.join(bin, 'mpac-bridge');
    fs.writeFileSync(script, '#!/bin/sh\n');
    const real: Host = {
      platform: process.platform,
      env: { PATH: '' },
      isExecutable: (f) => {
        try {
          fs.accessSync(f, fs.constants.X_OK);
          return fs.statSync(f).isFile();
        } catch {
          return false;
        }
      },
    };
    if (process.platform !== 'win32') {
      assert.equal(resolveCommand('', ws, real).ok, false); // not executable yet
      fs.chmodSync(script, 0o755);
    }
    assert.deepEqual(resolveCommand('', ws, real), { ok: true, command: script, source: 'venv' });
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
});
