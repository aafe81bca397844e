import { parseArgs } from 'node:util';
import type pg from 'pg';
import { Secret } from '../domain/secret.ts';
import type { CredentialCipher } from '../security/credentials.ts';
import { isUniqueViolation, withTransaction } from '../store/db.ts';
import { findProject } from '../store/projects.ts';
import { writeAudit } from './audit.ts';
import { clientIdPattern, clientSecretPattern, setPaypalCredentials } from './paypal-credentials.ts';
import { createMerchant, findMerchant } from './merchants.ts';
import { passwordProblem } from './passwords.ts';
import { createUser, isRole, userView } from './users.ts';

/**
 * CLI commands for accounts (wired in src/cli/main.ts):
 *   user create --email E --role merchant_admin|merchant_viewer|operator [--merchant M]   (password on stdin)
 *   merchant create --name N
 *   project set-paypal-credentials --project N --client-id ID   (secret on stdin)
 * The password (and the PayPal secret) is read from standard input so it never appears in the
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

export const projectCredentialsUsage = `  project set-paypal-credentials --project N --client-id ID
                             reads the PayPal client secret on stdin; stores it encrypted with
                             CREDENTIALS_ENCRYPTION_KEY (the nodes' key) and prints the client id
                             and the secret's last 4 characters`;

/**
 * `project set-paypal-credentials --project N --client-id ID`, the secret on
 * stdin (never in the process list or shell history). Sealed with the same
 * key the nodes use; without one it refuses rather than store the secret in
 * plain text. Audited like the operator console's form.
 */
export async function setPaypalCredentialsCommand(args: string[], withDatabase: WithDatabase, usageError: UsageErrorFactory, cipher: CredentialCipher): Promise<void> {
  const { values } = parseArgs({ args, options: { project: { type: 'string' }, 'client-id': { type: 'string' } } });
  if (!values.project || !/^\d{1,18}$/.test(values.project)) throw usageError('--project must be a project id');
  const clientId = values['client-id'] ?? '';
  if (!new RegExp(clientIdPattern).test(clientId)) throw usageError('--client-id must be the PayPal client id (letters, digits, ".", "_" and "-")');
  if (!cipher.canSeal) {
    throw new Error('CREDENTIALS_ENCRYPTION_KEY is not set: the PayPal client secret is never stored in plain text. Run with the key the nodes use.');
  }
  // Only the line break a shell adds is removed.
  const clientSecret = new Secret((await readStdin()).replace(/\r?\n$/, ''));
  if (!new RegExp(clientSecretPattern).test(clientSecret.reveal())) throw usageError('the client secret on stdin must be 8 to 256 printable characters without spaces');
  const view = await withDatabase(async (pool) => {
    const project = await findProject(pool, BigInt(values.project!));
    if (!project) throw usageError(`no project ${values.project}`);
    if (project.mode !== 'production') throw usageError(`project ${project.id} is a test project: test projects use the built-in PayPal sandbox`);
    await refuseForeignKey(pool, cipher);
    return withTransaction(pool, async (tx) => {
      const credentials = await setPaypalCredentials(tx, cipher, project, { clientId, clientSecret });
      const merchantId = await merchantIdOfProject(tx, project.id);
      await writeAudit(tx, {
        actor: { userId: null, email: null, merchantId: null },
        merchantId,
        action: 'paypal_credentials.set',
        targetType: 'project',
        targetId: String(project.id),
        outcome: 'success',
        details: { client_id: credentials.client_id, client_secret_last4: credentials.client_secret_last4, via: 'cli' },
      });
      return { project_id: Number(project.id), ...credentials };
    });
  });
  process.stdout.write(`${JSON.stringify(view)}\n`);
}

/**
 * A key other than the nodes' would store a secret no node can open. When
 * secrets are stored already and this key opens none of them, it is not the
 * nodes' key: refuse.
 */
async function refuseForeignKey(pool: pg.Pool, cipher: CredentialCipher): Promise<void> {
  const { rows } = await pool.query<{ sealed: string }>('SELECT paypal_client_secret_sealed AS sealed FROM projects WHERE paypal_client_secret_sealed IS NOT NULL');
  if (rows.length > 0 && !rows.some((row) => cipher.canOpen(row.sealed))) {
    throw new Error('CREDENTIALS_ENCRYPTION_KEY opens none of the PayPal secrets stored already: it is not the key the nodes use');
  }
}

async function merchantIdOfProject(db: pg.PoolClient, projectId: bigint): Promise<bigint | null> {
  const { rows } = await db.query<{ merchant_id: string | null }>('SELECT merchant_id::text AS merchant_id FROM projects WHERE id = $1', [String(projectId)]);
  return rows[0]?.merchant_id ? BigInt(rows[0].merchant_id) : null;
}
