/**
 * The system under test of bench/disk-writes.ts, in a process of its own so that its
 * /proc/<pid>/io write_bytes counts mgos alone. Usage: node disk-writes-system.js <config.json>.
 *
 * It counts, without changing what is written (readings appended to the journal, too):
 * - rows changed per table: every better-sqlite3 Statement.run is wrapped and its `changes` are
 *   added to the table its SQL names (INSERT INTO / UPDATE / DELETE FROM / REPLACE INTO x);
 * - WAL frames per table: a reader follows the -wal file, takes the page number from each frame
 *   header (SQLite WAL format, 24-byte frame headers after a 32-byte file header) and maps it to
 *   the table or index owning that page through the `dbstat` virtual table.
 *
 * Protocol on stdin/stdout: it prints `ready <pid> <url>` once started; each `stats` line read
 * answers with one JSON line of the counters; `checkpoint` checkpoints the WAL, `archive` moves every
 * recent reading to the archive and checkpoints, `archive-hour` runs the hourly move of the closed
 * hours now, `move-intervals-day` the daily move of yesterday's intervals (each answers a JSON line);
 * `stop` closes and exits.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { archiveReadings } from '../src/store/archive.js';
import { intervalMoveCutMs, moveIntervals } from '../src/store/interval-table.js';
import { RecentJournal } from '../src/store/recent-journal.js';
import { startSystem } from '../src/system.js';
import { systemClock as clock } from '../src/util/clock.js';

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: disk-writes-system <config.json>');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as { storage: { path: string } };

// 1. Rows changed per table.
const rowsByTable = new Map<string, number>();
const tableOf = (sql: string): string => {
  const m = /\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+["`]?(\w+)/i.exec(sql);
  return m?.[1] ?? '(other)';
};
{
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { run: (...a: unknown[]) => Database.RunResult; source: string };
  probe.close();
  const run = proto.run;
  proto.run = function (this: { source: string }, ...args: unknown[]): Database.RunResult {
    const r = run.apply(this, args);
    if (r.changes > 0) {
      // Deletes are counted apart: readings moved to the chunks must not count as readings stored.
      const t = /^\s*DELETE/i.test(this.source) ? `${tableOf(this.source)} (deleted)` : tableOf(this.source);
      rowsByTable.set(t, (rowsByTable.get(t) ?? 0) + r.changes);
    }
    return r;
  };
}

// Readings appended to the journal (recent-journal.ts), which is a file, not a table.
{
  const proto = RecentJournal.prototype as { append: (this: RecentJournal, rows: Parameters<RecentJournal['append']>[0]) => void };
  const append = proto.append;
  proto.append = function (this: RecentJournal, rows) {
    append.call(this, rows);
    rowsByTable.set('readings (journal)', (rowsByTable.get('readings (journal)') ?? 0) + rows.length);
  };
}

// 2. WAL frames per page, read from the -wal file as it grows.
const framesByPage = new Map<number, number>();
let walFrames = 0;
let walResets = 0;
const walPath = `${config.storage.path}-wal`;
let walFd: number | null = null;
let walOffset = 32;
let walSalt = '';
let pageSize = 4096;
const header = Buffer.alloc(32);
const frameHeader = Buffer.alloc(24);
function followWal(): void {
  try {
    walFd ??= openSync(walPath, 'r');
  } catch {
    return;
  }
  const size = fstatSync(walFd).size;
  if (size < 32 || readSync(walFd, header, 0, 32, 0) < 32) return;
  const salt = header.subarray(16, 24).toString('hex');
  if (salt !== walSalt) {
    // A checkpoint restarted the log: frames are written again from the start.
    if (walSalt) walResets++;
    walSalt = salt;
    walOffset = 32;
    pageSize = header.readUInt32BE(8) || 65536;
  }
  while (walOffset + 24 + pageSize <= size) {
    if (readSync(walFd, frameHeader, 0, 24, walOffset) < 24) break;
    // A frame of an older generation (salt differs) is left over from before the reset: stop there.
    if (frameHeader.subarray(8, 16).toString('hex') !== salt) break;
    const page = frameHeader.readUInt32BE(0);
    framesByPage.set(page, (framesByPage.get(page) ?? 0) + 1);
    walFrames++;
    walOffset += 24 + pageSize;
  }
}
const follower = setInterval(followWal, 200);

function walByTable(): Record<string, number> {
  const db = new Database(config.storage.path, { readonly: true });
  try {
    const owner = new Map<number, string>();
    for (const r of db.prepare<[], { name: string; pageno: number }>('SELECT name, pageno FROM dbstat').iterate()) owner.set(r.pageno, r.name);
    const out: Record<string, number> = {};
    for (const [page, n] of framesByPage) {
      const name = page === 1 ? 'page 1 (header, schema)' : (owner.get(page) ?? '(free or new page)');
      out[name] = (out[name] ?? 0) + n;
    }
    return out;
  } finally {
    db.close();
  }
}

const sys = await startSystem({ config, adminPassword: 'disk bench password', logger: pino({ level: 'warn' }) });
process.stdout.write(`ready ${process.pid} ${sys.url}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'stats') {
    followWal();
    process.stdout.write(`${JSON.stringify({ rows: Object.fromEntries(rowsByTable), walFrames, walResets, pageSize, walByTable: walByTable() })}\n`);
  } else if (line === 'checkpoint') {
    // What the next automatic checkpoint would write, written now (a short window has none).
    sys.db.pragma('wal_checkpoint(PASSIVE)');
    process.stdout.write('{}\n');
  } else if (line === 'archive') {
    // The hourly move to the archive, now: everything before the current second.
    const moved = archiveReadings(sys.db, clock() + 1000);
    sys.db.pragma('wal_checkpoint(PASSIVE)');
    process.stdout.write(`${JSON.stringify({ moved })}\n`);
  } else if (line === 'archive-hour') {
    // The hourly pass, now: every closed hour moves to the chunks (what the recorder does at hh:00).
    const moved = archiveReadings(sys.db, Math.floor(clock() / 3_600_000) * 3_600_000);
    sys.db.pragma('wal_checkpoint(PASSIVE)');
    process.stdout.write(`${JSON.stringify({ moved })}\n`);
  } else if (line === 'move-intervals-day') {
    // The daily pass, now: yesterday's intervals move to the archive (what the recorder does at 00:00 UTC).
    const moved = moveIntervals(sys.db, intervalMoveCutMs(clock()) + 86_400_000);
    sys.db.pragma('wal_checkpoint(PASSIVE)');
    process.stdout.write(`${JSON.stringify({ moved })}\n`);
  } else if (line === 'stop') {
    break;
  }
}
clearInterval(follower);
const openWal = walFd as number | null; // set by followWal(), which the checker does not follow
if (openWal !== null) closeSync(openWal);
await sys.close();
process.exit(0);
