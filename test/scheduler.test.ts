import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Scheduler } from '../src/util/scheduler.js';

test('a job runs every period, and runNow runs it at once', async () => {
  const s = new Scheduler();
  let runs = 0;
  s.every(
    'count',
    20,
    () => {
      runs++;
    },
    { runNow: true },
  );
  const atOnce = runs;
  assert.equal(atOnce, 1, 'runNow: the first run starts synchronously');
  await sleep(110);
  await s.stop();
  assert.ok(runs >= 3 && runs <= 7, `about 5 timer runs plus one at once, found ${runs}`);
  const after = runs;
  await sleep(50);
  assert.equal(runs, after, 'nothing runs after stop()');
});

test('a job never overlaps itself: ticks during a run are skipped and counted', async () => {
  const s = new Scheduler();
  let active = 0;
  let most = 0;
  s.every('slow', 10, async () => {
    active++;
    most = Math.max(most, active);
    await sleep(55);
    active--;
  });
  await sleep(140);
  const [st] = s.status();
  await s.stop();
  assert.equal(most, 1);
  assert.ok(st && st.skipped > 0 && st.runs >= 2, JSON.stringify(st));
  assert.equal(active, 0, 'stop() waited for the run in progress');
});

test('a failing job is reported with its name and keeps its schedule', async () => {
  const errors: string[] = [];
  const s = new Scheduler({ onError: (job, err) => errors.push(`${job}: ${(err as Error).message}`) });
  let n = 0;
  s.every(
    'flaky',
    15,
    () => {
      n++;
      if (n === 1) throw new Error('sync boom');
      if (n === 2) return Promise.reject(new Error('async boom'));
      return undefined;
    },
    { runNow: true },
  );
  await sleep(70);
  const st = s.status()[0];
  await s.stop();
  assert.deepEqual(errors.slice(0, 2), ['flaky: sync boom', 'flaky: async boom']);
  assert.ok(n >= 3, 'it ran again after failing');
  assert.equal(st?.failures, 2);
  assert.equal(st.lastError, 'async boom');
});

test('runNow joins a run in progress; names are unique; a stopped scheduler takes no jobs', async () => {
  const s = new Scheduler();
  let runs = 0;
  s.every('once', 60_000, async () => {
    runs++;
    await sleep(20);
  });
  const a = s.runNow('once');
  const b = s.runNow('once');
  await Promise.all([a, b]);
  assert.equal(runs, 1);
  assert.throws(() => s.every('once', 1000, () => undefined), /already scheduled/);
  await assert.rejects(s.runNow('missing'), /no job named missing/);
  const stopOne = s.every('other', 1000, () => undefined);
  await stopOne();
  assert.deepEqual(
    s.status().map((j) => j.name),
    ['once'],
  );
  await s.stop();
  assert.throws(() => s.every('late', 1000, () => undefined), /stopped/);
});
