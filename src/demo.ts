import type pg from 'pg';
import { signGateRequest } from './signature/index.ts';
import { createProject, listProjects, type Project } from './store/projects.ts';

export const demoProjectName = 'Demo test project';

/** The demo test project `npm start` seeds once, so a newcomer can send a request at once. */
export async function ensureDemoProject(pool: pg.Pool): Promise<Project> {
  const existing = (await listProjects(pool)).find((project) => project.name === demoProjectName && project.mode === 'test');
  return existing ?? createProject(pool, { name: demoProjectName, mode: 'test' });
}

/** A ready-to-paste signed sale request for the demo project. */
export function demoCurlExample(gateUrl: string, project: Project): string {
  const body = signGateRequest(
    {
      general: { project_id: Number(project.id), payment_id: `demo-${Date.now()}` },
      payment: { amount: 1000, currency: 'USD', description: 'Demo purchase' },
      customer: { id: 'customer-1', ip_address: '192.0.2.10' },
      return_url: { success: 'https://example.com/success', decline: 'https://example.com/decline' },
    },
    project.secretKey,
  );
  return `curl -s -X POST ${gateUrl}/v2/payment/wallet/paypal/sale -H 'content-type: application/json' -d '${JSON.stringify(body)}'`;
}
