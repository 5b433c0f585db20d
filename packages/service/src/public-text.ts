/**
 * Text written for a job's user (an error, a refusal): no server paths (a file is named by its name
 * only), no decoder addresses (`[h264 @ 0x5560...]`), no multi-line tool output. The full text goes
 * to the server's log with the job id.
 */
export function scrubInternals(text: string): string {
  return (text.split('\n')[0] ?? '')
    .replace(/\[[^\]]*@ 0x[0-9a-f]+\] ?/g, '')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\s:'"()\\/]+)+[\\/]?/g, (p) => p.split(/[\\/]/).filter(Boolean).pop() ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}
