/** "2026-11-26 18:25" (minutes) or "2026-11-26 18:25:07" (seconds), always UTC. */
export function formatUtc(date: Date, precision: "minutes" | "seconds" = "minutes"): string {
  return date
    .toISOString()
    .replace("T", " ")
    .slice(0, precision === "minutes" ? 16 : 19);
}
