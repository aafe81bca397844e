import { parseArgs } from 'node:util';
import type pg from 'pg';
import { isUniqueViolation } from '../store/db.ts';
import { createMerchant, findMerchant } from './merchants.ts';
import { passwordProblem } from './passwords.ts';
import { createUser, isRole, userView } from './users.ts';

/**
 * CLI commands for accounts (wired in src/cli/main.ts):
 *   user create --email E --role merchant_admin|merchant_viewer|operator [--merchant M]   (password on stdin)
 *   merchant create --name N
 * The password is read from standard input so it never appears in the
 * process list or shell history: `printf '%s' "$PASSWORD" | gatehouse user create ...`.
 */
export const accountsUsage = `  user create --email E --role merchant_admin|merchant_viewer|operator [--merchant M]
                             reads the password (at least 12 characters) on stdin
  merchant create --name N   prints {"merchant_id": ...}`;

type WithDatabase = <T>(work: (pool: pg.Pool) => Promise<T>) => Promise<T>;
type UsageErrorFactory = (message: string) => Error;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function userCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'create') throw usageError(`unknown user command: ${action ?? '(none)'}`);
  const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, role: { type: 'string' }, merchant: { type: 'string' } } });
  if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) throw usageError('--email must be an email address');
  if (!isRole(values.role)) throw usageError('--role must be merchant_admin, merchant_viewer or operator');
  const role = values.role;
  if (role === 'operator' && values.merchant !== undefined) throw usageError('operators belong to no merchant: leave out --merchant');
  if (role !== 'operator' && (!values.merchant || !/^\d+$/.test(values.merchant))) throw usageError('--merchant M (a merchant id) is required for merchant users');
  // Only the line break a shell adds is removed: the password is otherwise taken as typed.
  const password = (await readStdin()).replace(/\r?\n$/, '');
  const problem = passwordProblem(password);
  if (problem) throw usageError(`the password on stdin must have ${problem}`);
  const user = await withDatabase(async (pool) => {
    const merchantId = role === 'operator' ? null : BigInt(values.merchant!);
    if (merchantId !== null && !(await findMerchant(pool, merchantId))) throw usageError(`no merchant ${merchantId}`);
    try {
      return await createUser(pool, { email: values.email!, role, merchantId, password });
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_unique')) throw usageError(`a user with email ${values.email} exists`);
      throw error;
    }
  });
  const view = userView(user);
  process.stdout.write(`${JSON.stringify({ user_id: view.id, email: view.email, role: view.role, merchant_id: view.merchant_id })}\n`);
}

export async function merchantCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'create') throw usageError(`unknown merchant command: ${action ?? '(none)'}`);
  const { values } = parseArgs({ args: rest, options: { name: { type: 'string' } } });
  if (!values.name || values.name.length > 200) throw usageError('--name is required (at most 200 characters)');
  const merchant = await withDatabase((pool) => createMerchant(pool, values.name!));
  process.stdout.write(`${JSON.stringify({ merchant_id: Number(merchant.id), name: merchant.name })}\n`);
}
