import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PROBLEM_TEXT, MAX_PROBLEMS, ProblemLog } from '../src/csip/problems.js';

test('problems per resource: pages of a list are one entry, a repeat counts up, a success clears, at most MAX_PROBLEMS kept', () => {
  const log = new ProblemLog();
  log.note('/derp/1/derc?s=0&l=10', 'first', 1000);
  log.note('/derp/1/derc?s=10&l=10', 'second', 2000);
  assert.deepEqual(log.list(), [{ resource: '/derp/1/derc', message: 'second', firstSeenAt: 1000, lastSeenAt: 2000, count: 2 }]);

  // A server naming many failing resources: the ones seen longest ago go.
  const n = MAX_PROBLEMS + 5;
  for (let i = 0; i < n; i++) log.note(`/r/${i}`, `fail ${i}`, 3000 + i);
  const kept = log.list();
  assert.equal(kept.length, MAX_PROBLEMS);
  assert.deepEqual(
    kept.map((p) => p.resource),
    Array.from({ length: MAX_PROBLEMS }, (_, k) => `/r/${n - 1 - k}`),
    'newest first; the list and /r/0../r/4 dropped',
  );

  // A repeat moves the entry to the front; a success removes it.
  log.note('/r/10', 'fail 10 again', 9000);
  assert.deepEqual(log.list()[0], { resource: '/r/10', message: 'fail 10 again', firstSeenAt: 3010, lastSeenAt: 9000, count: 2 });
  log.clear('/r/10?s=0&l=1');
  assert.equal(
    log.list().some((p) => p.resource === '/r/10'),
    false,
  );
  assert.equal(log.list().length, MAX_PROBLEMS - 1);

  // The server chooses hrefs and values: both are cut.
  log.note(`/${'x'.repeat(2 * MAX_PROBLEM_TEXT)}`, 'y'.repeat(2 * MAX_PROBLEM_TEXT), 10_000);
  const long = log.list()[0] ?? assert.fail('nothing listed');
  assert.equal(long.resource.length, MAX_PROBLEM_TEXT);
  assert.equal(long.message.length, MAX_PROBLEM_TEXT);
  assert.ok(long.message.endsWith('…'));
});
