/** What the terminal on stdout wants: colour or not (as pytest decides it) and its width. */

/** Colour as pytest decides it: NO_COLOR/FORCE_COLOR/PY_COLORS, else whether stdout is a terminal. */
export function decideColor(): boolean {
  const env = process.env;
  if (env.PY_COLORS === '1') return true;
  if (env.PY_COLORS === '0') return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return Boolean(process.stdout.isTTY) && env.TERM !== 'dumb';
}

export function terminalColumns(): number {
  return process.stdout.columns || Number(process.env.COLUMNS) || 80;
}
