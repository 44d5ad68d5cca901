// The restart policy: restart a crashed server, at most `limit` times within the window, then stop
// and say so; a restart the person asks for starts the count again.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { RESTART_LIMIT, RESTART_WINDOW_MS, RestartPolicy } from '../src/restart';

test('restarts up to the limit within the window, then gives up', () => {
  let now = 0;
  const p = new RestartPolicy(() => now);
  assert.equal(p.limit, RESTART_LIMIT);
  for (let i = 0; i < RESTART_LIMIT; i++) {
    now += 1000;
    assert.equal(p.onCrash(), true, `crash ${i + 1} is restarted`);
  }
  now += 1000;
  assert.equal(p.onCrash(), false);
  assert.equal(p.recent, RESTART_LIMIT);
  assert.match(p.giveUpMessage(), /stopped 5 times in 3 minutes and will not be restarted automatically/);
  assert.match(p.giveUpMessage(), /mpac-bridge: Restart the language server/);
});

test('crashes older than the window are forgotten', () => {
  let now = 0;
  const p = new RestartPolicy(() => now, 2, 10_000);
  assert.ok(p.onCrash());
  now = 5_000;
  assert.ok(p.onCrash());
  now = 9_000;
  assert.equal(p.onCrash(), false);
  now = 10_001; // the first restart left the window
  assert.ok(p.onCrash());
  assert.equal(p.recent, 2);
});

test('a restart asked for by the person resets the count', () => {
  let now = 0;
  const p = new RestartPolicy(() => now, 1, RESTART_WINDOW_MS);
  assert.ok(p.onCrash());
  now += 1;
  assert.equal(p.onCrash(), false);
  p.reset();
  assert.equal(p.recent, 0);
  assert.ok(p.onCrash());
});

test('the pause before a restart doubles from 250 ms, capped', () => {
  let now = 0;
  const p = new RestartPolicy(() => now, 10);
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    now += 10;
    p.onCrash();
    delays.push(p.delayMs());
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 4000, 4000]);
});
