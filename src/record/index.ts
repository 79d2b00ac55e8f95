/** The recorder and the reader of run recordings (`.bulkhead/runs/<id>/events.ndjson`): format.ts says what one is. */
export { EVENTS_FILE, RECORDING_FORMAT, RECORDING_VERSION, isKnownEventType, type RecordingHeader } from './format.js';
export { EventRecorder, type RecorderHeader } from './recorder.js';
export { readRecording, type ReadRecordingResult, type Recording } from './reader.js';
export { completeRecording, STOPPED, type CompletedRecording } from './partial.js';
export { locateRecording, type Located } from './locate.js';
export { createRunFolder, pruneRuns, recordingIsLive, runFolderName, runsRoot, type RunFolder } from './run-folder.js';
export { openRunFolder, type OpenedRun, type RunFolderRequest } from './open-run.js';
