import { spawn } from "node:child_process";
import fs from "node:fs";

/** The README's block under `<!-- example: NAME -->`, fenced as `lang`: what the tests run as it is written. */
export function readmeExample(name: string, lang: string): string {
  const readme = fs.readFileSync("README.md", "utf8");
  const marker = `<!-- example: ${name} -->\n\`\`\`${lang}\n`;
  const start = readme.indexOf(marker);
  if (start < 0) throw new Error(`the README has no example ${name}`);
  const body = start + marker.length;
  return readme.slice(body, readme.indexOf("```", body));
}

/** Runs a command to its end with the given environment added: its exit status and all it printed. */
export function runToEnd(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("close", (status) => resolve({ status, output }));
  });
}
