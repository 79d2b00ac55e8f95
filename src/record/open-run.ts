/**
 * A run's folder and its recording, opened together at the start of a run: the one call the
 * runner makes. Neither is ever a reason not to run: a folder that cannot be made (a read-only
 * project) or a file that cannot be created is one warning line, and the run goes on without.
 */
import { join, relative } from 'node:path';
import { packageVersion } from '../util/package-version.js';
import { EVENTS_FILE } from './format.js';
import { EventRecorder } from './recorder.js';
import { createRunFolder } from './run-folder.js';

export interface RunFolderRequest {
  cwd: string;
  startedAt: Date;
  /** Record the run's events (false: --no-record, config `record = false`). */
  record: boolean;
  /** Keep worker logs in the folder (false: --no-artifacts). */
  keepArtifacts: boolean;
  keepRuns: number;
  argv: readonly string[];
  warn: (line: string) => void;
}

export interface OpenedRun {
  /** Where worker logs go; null: none are kept. */
  artifactsDir: string | null;
  /** The reporter that records the run; null: not recorded. */
  recorder: EventRecorder | null;
}

export function openRunFolder(request: RunFolderRequest): OpenedRun {
  if (!request.record && !request.keepArtifacts) return { artifactsDir: null, recorder: null };
  const folder = createRunFolder(request.cwd, request.startedAt, request.keepRuns);
  if (folder.kind === 'failed') {
    const lost = [request.record ? 'is not recorded' : null, request.keepArtifacts ? 'keeps no worker logs' : null].filter(Boolean).join(' and ');
    request.warn(`bulkhead: warning: cannot create the run folder ${shown(request.cwd, folder.dir)} (${folder.reason}): this run ${lost}`);
    return { artifactsDir: null, recorder: null };
  }
  const artifactsDir = request.keepArtifacts ? folder.dir : null;
  if (!request.record) return { artifactsDir, recorder: null };
  const path = join(folder.dir, EVENTS_FILE);
  const header = {
    runId: folder.id,
    bulkhead: packageVersion(),
    startedAt: request.startedAt.toISOString(),
    cwd: request.cwd,
    argv: [...request.argv],
  };
  const recorder = EventRecorder.create(path, header, request.warn);
  if ('failed' in recorder) {
    request.warn(`bulkhead: warning: cannot record this run in ${shown(request.cwd, path)} (${recorder.failed}): it runs unrecorded`);
    return { artifactsDir, recorder: null };
  }
  return { artifactsDir, recorder };
}

function shown(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') ? path : rel;
}
