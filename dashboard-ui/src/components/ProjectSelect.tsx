import { useSearchParams } from 'react-router-dom';
import { useSession } from '../session.tsx';
import type { ProjectView } from '../types.ts';

export function projectLabel(project: ProjectView): string {
  return `${project.name} (#${project.id}, ${project.mode === 'production' ? 'production' : 'test'})`;
}

/** A native select of the merchant's projects; `allowAll` adds "All projects" (value ""). */
export function ProjectSelect({
  id,
  value,
  onChange,
  allowAll = false,
  required = false,
}: {
  id: string;
  value: string;
  onChange(value: string): void;
  allowAll?: boolean;
  required?: boolean;
}) {
  const { projects } = useSession();
  return (
    <select id={id} value={value} onChange={(event) => onChange(event.target.value)} required={required}>
      {allowAll ? <option value="">All projects</option> : null}
      {projects.map((project) => (
        <option key={project.id} value={String(project.id)}>
          {projectLabel(project)}
        </option>
      ))}
    </select>
  );
}

/**
 * The project a single-project screen works on, kept in the URL (?project=)
 * so a link or a reload keeps it; the merchant's first project by default.
 */
export function useChosenProject(): [ProjectView | undefined, (id: string) => void] {
  const { projects } = useSession();
  const [params, setParams] = useSearchParams();
  const wanted = params.get('project');
  const project = projects.find((candidate) => String(candidate.id) === wanted) ?? projects[0];
  const choose = (id: string) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        next.set('project', id);
        return next;
      },
      { replace: true },
    );
  return [project, choose];
}

export function useProjectName(): (projectId: number | null) => string {
  const { projects } = useSession();
  return (projectId) => {
    if (projectId === null) return 'All projects';
    const project = projects.find((candidate) => candidate.id === projectId);
    return project ? `${project.name} (#${project.id})` : `#${projectId}`;
  };
}
