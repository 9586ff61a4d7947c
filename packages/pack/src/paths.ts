/**
 * Path rules shared by the archive reader, the archive writer and pack.yaml: a pack path is relative,
 * `/`-separated, and every segment is an ordinary file name.
 */

/** Longest entry path we accept (bytes of UTF-8). */
export const MAX_PATH_BYTES = 512;

/**
 * Why `path` is not a safe pack path, or `undefined` when it is. Rejects absolute paths (`/x`), drive letters
 * (`C:x`, `C:/x`), backslashes, `.` and `..` segments, empty segments (`a//b`, trailing `/`), control
 * characters and over-long names.
 */
export function packPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we reject
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.includes('\\')) return 'contains a backslash (use "/" and no Windows paths)';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '') return 'has an empty segment (a leading, doubled or trailing "/")';
    if (s === '..') return 'has a ".." segment that leaves the pack';
    if (s === '.') return 'has a "." segment';
  }
  return undefined;
}

/** True when `path` is a safe pack path. */
export function isSafePackPath(path: string): boolean {
  return packPathProblem(path) === undefined;
}

/**
 * Normalises a path written in pack.yaml (relative to the pack root): strips a leading `./` and collapses
 * `a/./b`; returns the problem instead when the path is unsafe (absolute, escaping, backslashes, …).
 */
export function normaliseSourcePath(path: string): { path: string } | { problem: string } {
  let p = path;
  while (p.startsWith('./')) p = p.slice(2);
  p = p
    .split('/')
    .filter((s, i, all) => !(s === '.' && i < all.length - 1))
    .join('/');
  const problem = packPathProblem(p);
  return problem ? { problem } : { path: p };
}
