import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api.ts';
import { FilterBar, ModeField } from '../components/Fields.tsx';
import { EmptyRow, LoadStatus, ModeBadge, Page, StatusBadge, TableWrap } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';
import type { ProjectView } from '../types.ts';

/** Operator console: every project (with or without a merchant), where its PayPal onboarding stands, and a way to its fees. */
export default function Projects() {
  const projects = useLoad((signal) => api.get<{ projects: ProjectView[] }>('/operator/projects', undefined, { signal }), []);
  const [mode, setMode] = useState('');
  const shown = (projects.data?.projects ?? []).filter((project) => !mode || project.mode === mode);
  return (
    <Page title="Projects and PayPal onboarding" description="A production project takes PayPal payments once its onboarding is ready.">
      <FilterBar label="Project filters">
        <ModeField id="projects-mode" value={mode} onChange={setMode} />
      </FilterBar>
      <LoadStatus load={projects} errorTitle="Projects could not be loaded" />
      {projects.data ? (
        <TableWrap label="Projects">
          <table>
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Name</th>
                <th scope="col">Merchant</th>
                <th scope="col">Mode</th>
                <th scope="col">PayPal</th>
                <th scope="col">Onboarding</th>
                <th scope="col">Fees</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 ? <EmptyRow columns={7}>No projects.</EmptyRow> : null}
              {shown.map((project) => (
                <tr key={project.id}>
                  <td className="mono">{project.id}</td>
                  <th scope="row">{project.name}</th>
                  <td>{project.merchant_id ? <Link to={`/operator/merchants/${project.merchant_id}`}>#{project.merchant_id}</Link> : 'None (CLI or demo)'}</td>
                  <td>
                    <ModeBadge mode={project.mode} />
                  </td>
                  <td>{project.paypal_enabled ? 'Enabled' : 'Off'}</td>
                  <td>
                    <Link to={`/operator/projects/${project.id}/onboarding`}>
                      {project.paypal_onboarding_state ? <StatusBadge status={project.paypal_onboarding_state} /> : 'Not started'}
                      <span className="sr-only"> (manage onboarding of project {project.id})</span>
                    </Link>
                  </td>
                  <td>
                    <Link to={`/operator/projects/${project.id}/fees`}>
                      Edit fees<span className="sr-only"> of project {project.id}</span>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </Page>
  );
}
