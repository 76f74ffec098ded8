/**
 * Text for a terminal with the C0 and C1 control characters taken out (new lines and tabs stay):
 * names and server replies come from tenants and from mail servers, and an escape sequence in them
 * could rewrite the screen or the window title of whoever runs the command.
 */
export function printable(text: string): string {
  return text.replace(/(?![\n\t])\p{Cc}/gu, "");
}

/** console.log and console.error for text that may hold what a tenant or a server wrote. */
export const say = (text: string) => console.log(printable(text));
export const complain = (text: string) => console.error(printable(text));
