-- Up Migration
-- The scheduler takes due tasks in two index scans instead of one scan of
-- every pending task (docs/performance.md, fourth round): projects on real
-- time through scheduled_tasks_due, and each project with a test clock
-- through this index, by its own clock. A test clock advance counts the
-- project's due tasks through it too.
CREATE INDEX scheduled_tasks_project_due ON scheduled_tasks (project_id, due_at, id) WHERE status = 'pending';

-- Down Migration
DROP INDEX scheduled_tasks_project_due;
