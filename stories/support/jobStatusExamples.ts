import type { JobStatusLabels, JobStatusState } from '../../src/index';

/**
 * Data of the JobStatus stories that would only crowd them: the French
 * labels of "Custom labels (French)" and the app theme of "All states".
 */

/** Every text of JobStatus in French, including the ones built from numbers and server text. */
export const frenchLabels: Partial<JobStatusLabels> = {
  pending: 'En attente',
  processing: 'En cours',
  completed: 'Terminé',
  failed: 'Échec',
  cancelled: 'Annulé',
  loading: 'Chargement du statut…',
  updating: '(mise à jour…)',
  retry: (retryCount, maxRetries) =>
    maxRetries == null ? `Nouvelle tentative ${retryCount}` : `Nouvelle tentative ${retryCount} sur ${maxRetries}`,
  lastError: (message) => `Dernière erreur : ${message}`,
  connectionError: 'Problème de connexion, nouvelle tentative…',
  notFound: 'Tâche introuvable',
  unauthorized: 'Accès refusé à cette tâche',
  loadError: 'Impossible de charger le statut',
};

/**
 * An app's own theme, written only with `[data-state="…"]` selectors and
 * scoped under `.jobwatch-theme-demo`. It does not use the stylesheet's
 * classes: the attribute rules outrank the default sheet (whose selectors are
 * all `:where()`, specificity 0), `[data-state] *` makes every part take the
 * colour of its state, and the spinner is animated here, by state.
 */
export const themeCss = `
.jobwatch-theme-demo {
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));
  gap: 1rem;
  margin: 0;
  padding: 0;
  list-style: none;
  font-family: system-ui, sans-serif;
}
.jobwatch-theme-demo li {
  display: flex;
  flex-direction: column;
  gap: 0.375rem;
}
.jobwatch-theme-demo code {
  font-size: 0.75rem;
  color: #4b5563;
}
.jobwatch-theme-demo [data-state] {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.25rem 0.5rem;
  box-sizing: border-box;
  min-height: 2.75rem;
  padding: 0.5rem 0.75rem;
  border: 1px solid;
  border-inline-start-width: 0.375rem;
  border-radius: 0.5rem;
  font-size: 0.875rem;
  font-weight: 600;
}
.jobwatch-theme-demo [data-state] * {
  color: inherit;
  margin: 0;
  animation: none;
}
.jobwatch-theme-demo [data-state='idle'] {
  border-style: dashed;
  border-inline-start-width: 1px;
  border-color: rgb(209, 213, 219);
  background-color: rgb(255, 255, 255);
}
.jobwatch-theme-demo [data-state='loading'] {
  color: rgb(55, 65, 81);
  border-color: rgb(156, 163, 175);
  background-color: rgb(243, 244, 246);
}
.jobwatch-theme-demo [data-state='pending'] {
  color: rgb(146, 64, 14);
  border-color: rgb(217, 119, 6);
  background-color: rgb(254, 243, 199);
}
.jobwatch-theme-demo [data-state='processing'] {
  color: rgb(30, 64, 175);
  border-color: rgb(59, 130, 246);
  background-color: rgb(219, 234, 254);
}
.jobwatch-theme-demo [data-state='completed'] {
  color: rgb(22, 101, 52);
  border-color: rgb(34, 197, 94);
  background-color: rgb(220, 252, 231);
}
.jobwatch-theme-demo [data-state='failed'] {
  color: rgb(153, 27, 27);
  border-color: rgb(239, 68, 68);
  background-color: rgb(254, 226, 226);
}
.jobwatch-theme-demo [data-state='cancelled'] {
  color: rgb(75, 85, 99);
  border-color: rgb(107, 114, 128);
  background-color: rgb(243, 244, 246);
  text-decoration: line-through;
}
.jobwatch-theme-demo [data-state='error'] {
  color: rgb(136, 19, 55);
  border-color: rgb(244, 63, 94);
  border-style: double;
  border-width: 3px 3px 3px 0.375rem;
  background-color: rgb(255, 228, 230);
}
@keyframes jobwatch-theme-demo-spin {
  to { transform: rotate(360deg); }
}
.jobwatch-theme-demo :is([data-state='processing'], [data-state='loading']) svg {
  animation: jobwatch-theme-demo-spin 1.2s linear infinite;
}
@media (prefers-reduced-motion: reduce) {
  .jobwatch-theme-demo :is([data-state='processing'], [data-state='loading']) svg {
    animation: none;
  }
}
`;

/** What the theme above gives each state: text colour and background (computed values). */
export const themed: Record<JobStatusState, { color: string; background: string; text: string }> = {
  idle: { color: '', background: 'rgb(255, 255, 255)', text: '' },
  loading: { color: 'rgb(55, 65, 81)', background: 'rgb(243, 244, 246)', text: 'Loading job status…' },
  pending: { color: 'rgb(146, 64, 14)', background: 'rgb(254, 243, 199)', text: 'Queued' },
  processing: { color: 'rgb(30, 64, 175)', background: 'rgb(219, 234, 254)', text: 'Processing (updating…)' },
  completed: { color: 'rgb(22, 101, 52)', background: 'rgb(220, 252, 231)', text: 'Completed' },
  failed: { color: 'rgb(153, 27, 27)', background: 'rgb(254, 226, 226)', text: 'Failed' },
  cancelled: { color: 'rgb(75, 85, 99)', background: 'rgb(243, 244, 246)', text: 'Cancelled' },
  error: { color: 'rgb(136, 19, 55)', background: 'rgb(255, 228, 230)', text: 'Job not found' },
};
