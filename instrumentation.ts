// Runs once when a portal process starts (Next.js calls register before serving).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startMonitoring } = await import("./lib/service/scheduler");
  startMonitoring();
}
