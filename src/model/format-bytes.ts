/**
 * 1.5 GiB, 300 MiB, 12 KiB: binary units, as memory is counted. In model/ because the words of a
 * cause ("ran out of memory: over its cap of 300 MiB") are part of the model; util/bytes.ts
 * re-exports it for everyone else.
 */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${bytes} B`;
}
