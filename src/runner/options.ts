/** Everything a run needs, resolved by the CLI (and later the config files). */
export interface RunOptions {
  cwd: string;
  python: string;
  workers: number;
  pytestArgs: string[];
  /** Per-run folder for worker logs; null keeps no files. */
  artifactsDir: string | null;
  color: boolean;
  columns: number;
  /** Workers that die before becoming ready this many times in a row abort the run. */
  startupFailureLimit: number;
}
