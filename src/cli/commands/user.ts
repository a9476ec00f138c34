import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../../auth/roles.js';
import { UserStore } from '../../auth/user-store.js';
import { generatePassword } from '../../auth/passwords.js';
import { openDatabase } from '../../store/database.js';
import { UsageError } from '../usage-error.js';
import { siteFor } from './store-of.js';

export const USER_HELP = `mgos user: manage who may use the system (works on the site database directly)

  mgos user list   --config site.yaml
  mgos user add    NAME --role operator --config site.yaml    (prints a generated password once)
  mgos user passwd NAME --config site.yaml                    (sets a new generated password, ends sessions)

  roles: ${ROLES.join(', ')}   (each may do all the ones before it may)
  --demo [--data DIR] works on the demo database instead of --config`;

export async function userCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, demo: { type: 'boolean' }, data: { type: 'string' }, role: { type: 'string' } },
  });
  const [action, name] = positionals;
  const site = siteFor(v);
  const db = openDatabase(site.storage.path);
  try {
    const users = new UserStore(db);
    if (action === 'list') {
      for (const u of users.list()) process.stdout.write(`${u.username}\t${u.role}\n`);
      return 0;
    }
    if (!name) throw new UsageError(`give the user name: mgos user ${action ?? 'add'} NAME`);
    const password = generatePassword();
    if (action === 'add') {
      if (!v.role || !ROLES.includes(v.role as Role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
      await users.create(name, password, v.role as Role);
    } else if (action === 'passwd') {
      await users.setPassword(name, password);
    } else {
      throw new UsageError(`unknown action "${action ?? ''}"; use list, add or passwd`);
    }
    process.stdout.write(`password for ${name} (shown once): ${password}\n`);
    return 0;
  } finally {
    db.close();
  }
}
