import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A real small filesystem for full-disk tests: a tmpfs of `sizeMb` mounted on a new directory and
 * unmounted after the test. Mounting needs root: elsewhere the test is skipped (null), under CI it fails.
 */
export function mountTmpfs(t: TestContext, sizeMb: number, prefix: string): string | null {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.CI === 'true') assert.fail('mount -t tmpfs is not permitted: run the full-disk test as root');
    t.skip('mount -t tmpfs is not permitted here (needs root)');
    return null;
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes zeros into `file` until its filesystem has not a byte left. */
export function fillUp(file: string): void {
  const fd = openSync(file, 'a');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
}
