/**
 * A value as one PowerShell argument that is only ever data: a single-quoted string, in which
 * PowerShell expands nothing ($, $(), backticks and ; are plain characters), with every quote doubled.
 * PowerShell takes the typographic single quotes (U+2018 to U+201B) as quotes too, so they are
 * doubled as well. Every command line the portal shows goes through this.
 */
export function powerShellQuoted(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (quote) => quote + quote)}'`;
}
