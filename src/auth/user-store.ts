import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../util/clock.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';
import { ROLES, type Role } from './roles.js';

export interface User {
  readonly username: string;
  readonly role: Role;
}

const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Sessions of `username` were ended in this process (logout, password change); live streams re-check theirs. */
export type SessionsEnded = (username: string) => void;

/** Users and login sessions, in the site database. Session tokens are stored only as hashes. */
export class UserStore {
  private readonly endedListeners = new Set<SessionsEnded>();
  /** Asked on every request and by every open stream: prepared once. */
  private readonly sessionUser: Database.Statement<[string, number], User>;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock = systemClock,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN (${ROLES.map((r) => `'${r}'`).join(',')})),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
      );`);
    this.sessionUser = db.prepare<[string, number], User>(
      'SELECT u.username, u.role FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ? AND s.expires_at > ?',
    );
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /**
   * First start: there is no default password. Creates `admin` with the given password or a random
   * one, and returns the password so the caller can show it once. Returns null if users exist.
   */
  async ensureAdmin(password?: string): Promise<string | null> {
    if (this.count() > 0) return null;
    const secret = password ?? generatePassword();
    await this.create('admin', secret, 'admin');
    return secret;
  }

  async create(username: string, password: string, role: Role): Promise<User> {
    if (!/^[a-z0-9_.-]{2,32}$/.test(username)) throw new Error('username: use 2-32 lowercase letters, digits, _ . or -');
    if (password.length < 10) throw new Error('password: use at least 10 characters');
    const exists = this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username);
    if (exists) throw new Error(`username: "${username}" already exists`);
    this.db
      .prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(username, role, await hashPassword(password), this.clock());
    return { username, role };
  }

  /**
   * Sets a password and ends every session of the user (someone who knew the old password may hold
   * one), except `keepToken`: the session that made the change itself.
   */
  async setPassword(username: string, password: string, keepToken?: string): Promise<void> {
    if (password.length < 10) throw new Error('password: use at least 10 characters');
    const r = this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(await hashPassword(password), username);
    if (r.changes === 0) throw new Error(`username: no user "${username}"`);
    this.db.prepare('DELETE FROM sessions WHERE username = ? AND token_hash <> ?').run(username, keepToken === undefined ? '' : sha256(keepToken));
    this.emitEnded(username);
  }

  list(): User[] {
    return this.db.prepare('SELECT username, role FROM users ORDER BY username').all() as User[];
  }

  /** Checks a password without starting a session. */
  async verify(username: string, password: string): Promise<User | null> {
    const row = this.db.prepare('SELECT username, role, password_hash FROM users WHERE username = ?').get(username) as
      { username: string; role: Role; password_hash: string } | undefined;
    // Hash even for unknown users so response time does not reveal which usernames exist.
    const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    return row && ok ? { username: row.username, role: row.role } : null;
  }

  async login(username: string, password: string): Promise<{ user: User; token: string } | null> {
    const user = await this.verify(username, password);
    if (!user) return null;
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    this.db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(now);
    this.db.prepare('INSERT INTO sessions (token_hash, username, expires_at) VALUES (?, ?, ?)').run(sha256(token), user.username, now + SESSION_TTL_MS);
    return { user, token };
  }

  userForToken(token: string): User | null {
    return this.sessionUser.get(sha256(token), this.clock()) ?? null;
  }

  logout(token: string): void {
    const row = this.db.prepare('DELETE FROM sessions WHERE token_hash = ? RETURNING username').get(sha256(token)) as { username: string } | undefined;
    if (row) this.emitEnded(row.username);
  }

  /**
   * Told when sessions end in this process. Changes made by another process (`mgos user passwd` works
   * on the database directly) are not announced: holders of long-lived connections also re-check.
   */
  onSessionsEnded(listener: SessionsEnded): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private emitEnded(username: string): void {
    for (const l of [...this.endedListeners]) l(username);
  }
}
