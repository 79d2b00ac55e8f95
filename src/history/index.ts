export { HistoryStore, HISTORY_DIR, HISTORY_FILE, type HistoryOpenOptions, type HistoryOpenResult } from './store.js';
export { HistoryRecorder, type HistoryRecorderOptions } from './recorder.js';
export { KEEP_RUNS } from './write-run.js';
export { PREDICTION_WINDOW } from './predict.js';
export { SCHEMA_VERSION } from './schema.js';
export { outcomeKey } from './outcome-record.js';
export type { RunRecord, TestPrediction, TestRecord } from './types.js';
