import "server-only";
import { and, count, eq, gt, inArray, isNull, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { entraSetups } from "@/db/schema";
import type { Refusal } from "../refusals";

/**
 * Each sign-in waiting at Microsoft keeps a poller in this process for up to 15 minutes: a tenant may
 * have a few at once, the portal a few dozen, and a tenant may start only so many setups an hour.
 */
export const SETUP_LIMITS = { signingInPerTenant: 3, signingInEverywhere: 20, startsPerTenantPerHour: 20 };
/** A sign-in that never got its code (its process stopped) stops counting after this long. */
const STALE_START_MS = 2 * 60_000;

/** Why another setup may not start now: too many signing in (here or everywhere), or too many this hour. */
export async function limitsRefusal(
  tx: Pick<Db, "select">,
  tenantId: number,
  now = Date.now(),
): Promise<Refusal | null> {
  const signingIn = and(
    inArray(entraSetups.status, ["starting", "waiting"]),
    or(
      gt(entraSetups.expiresAt, new Date(now)),
      and(isNull(entraSetups.expiresAt), gt(entraSetups.createdAt, new Date(now - STALE_START_MS))),
    ),
  );
  const inTenant =
    (
      await tx
        .select({ n: count() })
        .from(entraSetups)
        .where(and(signingIn, eq(entraSetups.tenantId, tenantId)))
    )[0]?.n ?? 0;
  if (inTenant >= SETUP_LIMITS.signingInPerTenant) {
    const message = `This tenant already has ${inTenant} Entra setups waiting for their sign-in at Microsoft, the most it may have. Finish one, or wait until its code expires.`;
    return { kind: "capacity", message, retryAfterSeconds: 60 };
  }
  const everywhere = (await tx.select({ n: count() }).from(entraSetups).where(signingIn))[0]?.n ?? 0;
  if (everywhere >= SETUP_LIMITS.signingInEverywhere) {
    const message = "The portal has as many Entra setups waiting for their sign-in as it may. Try again in a minute.";
    return { kind: "capacity", message, retryAfterSeconds: 60 };
  }
  const lastHour =
    (
      await tx
        .select({ n: count() })
        .from(entraSetups)
        .where(and(eq(entraSetups.tenantId, tenantId), gt(entraSetups.createdAt, new Date(now - 3_600_000))))
    )[0]?.n ?? 0;
  if (lastHour >= SETUP_LIMITS.startsPerTenantPerHour) {
    const message = `This tenant started ${lastHour} Entra setups in the last hour, the most it may. Try again later.`;
    return { kind: "rate_limited", message, retryAfterSeconds: 600 };
  }
  return null;
}
