/** A mistake in how bulkhead was called: one line, exit code 4 (pytest's usage error). */
export class UsageError extends Error {}
