import type { FastifyInstance } from 'fastify';
import { GateError } from '../domain/errors.ts';
import { clockFor, type PlatformContext } from '../processing/context.ts';
import { advanceTestClock } from './advance.ts';
import { verifyGateRequest } from '../signature/index.ts';
import { findProject, type Project } from '../store/projects.ts';
import { TestClockAdvanceRequest, type TestClockAdvanceBody } from '../gate/schemas.ts';
import { Type, type Static } from '@sinclair/typebox';
import { TestClockResponse, documentationOnlySerializer, documentedResponses } from '../observability/openapi-schemas.ts';

/**
 * Test clocks (as Stripe's): a test project freezes its time and moves it
 * forward; every time rule of the project (hold expiry, threshold declines,
 * scheduled COF debits) reads it. Advancing performs every task that became
 * due, in due order, before answering. Signed like Gate with the project's
 * key; production projects are refused.
 */
const TestClockRequest = Type.Object({
  general: Type.Object({
    project_id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
    signature: Type.Optional(Type.String({ maxLength: 1024 })),
  }),
});

export async function testClockRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;

  async function testProject(body: unknown, projectId: number): Promise<Project> {
    const project = await findProject(context.pool, projectId, context.now());
    if (!project) throw new GateError('projectNotFound', String(projectId));
    const verdict = verifyGateRequest(body, project.secretKeys);
    if (verdict === 'missing') throw new GateError('emptySignature');
    if (verdict === 'invalid') throw new GateError('invalidSignature');
    if (project.mode !== 'test') throw new GateError('testClockForbidden');
    return project;
  }

  const view = (project: Project, tasksRun?: number) => ({
    project_id: Number(project.id),
    test_clock: clockFor(context, project).toISOString(),
    frozen: project.testClockAt !== null,
    ...(tasksRun === undefined ? {} : { tasks_run: tasksRun }),
  });

  // OpenAPI metadata (`npm run openapi`); it changes nothing at run time.
  const documentation = (operationId: string, summary: string, description: string) => ({
    tags: ['Data API: test clocks'],
    operationId,
    summary,
    description,
    response: documentedResponses(TestClockResponse, "The test project's clock.", 'testClock'),
  });
  const showOptions = {
    schema: { body: TestClockRequest, ...documentation('test_clock_show', 'Read a test clock', 'The clock every time rule of a test project reads. Production projects answer `3090`.') },
    serializerCompiler: documentationOnlySerializer,
  };
  const advanceOptions = {
    schema: {
      body: TestClockAdvanceRequest,
      ...documentation(
        'test_clock_advance',
        'Move a test clock forward',
        'Give exactly one of `clock.advance_seconds` and `clock.frozen_time`. Every timer that falls due (hold expiry, thresholds, COF debits) is performed in due order before the answer.',
      ),
    },
    serializerCompiler: documentationOnlySerializer,
  };

  app.post<{ Body: Static<typeof TestClockRequest> }>('/data/v1/test-clock', showOptions, async (request) => {
    return view(await testProject(request.body, request.body.general.project_id));
  });

  app.post<{ Body: TestClockAdvanceBody }>('/data/v1/test-clock/advance', advanceOptions, async (request) => {
    const project = await testProject(request.body, request.body.general.project_id);
    const current = clockFor(context, project);
    const { advance_seconds: advanceSeconds, frozen_time: frozenTime } = request.body.clock;
    if ((advanceSeconds === undefined) === (frozenTime === undefined)) throw new GateError('invalidFieldFormat', 'give exactly one of clock.advance_seconds and clock.frozen_time');
    const target = frozenTime !== undefined ? new Date(frozenTime) : new Date(current.getTime() + advanceSeconds! * 1000);
    if (Number.isNaN(target.getTime())) throw new GateError('invalidFieldFormat', 'clock.frozen_time is not a time');
    if (target < current && project.testClockAt !== null) throw new GateError('invalidFieldFormat', 'a test clock only moves forward');
    const tasksRun = await advanceTestClock(context, project, target);
    const updated = await findProject(context.pool, project.id, context.now());
    if (!updated) throw new GateError('projectNotFound', String(project.id));
    return view(updated, tasksRun);
  });
}
