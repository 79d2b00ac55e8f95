/**
 * Long text handed to native code a piece at a time. Node encodes a string it passes to a write or
 * a hash into one malloc'd block, up to three bytes per character: 27 MB for the 9 MB line of a
 * 50,000-test collection, mapped and unmapped at once. glibc, seeing so large a block freed,
 * raises its mmap threshold to match, and every later allocation below that size then stays in
 * the process's resident memory after it is freed (16 MB more at the peak of such a run). Pieces
 * of this many UTF-16 units stay below glibc's initial threshold (128 KiB) in any encoding.
 */
export const TEXT_PIECE_CHARS = 16 * 1024;
