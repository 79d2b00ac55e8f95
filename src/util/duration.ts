/** Seconds, as `30`, `2.5`, `90s`, `5m` or `1h` (the CLI's --timeout forms). Null when not > 0. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!match) return null;
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : null;
}
