import "server-only";
import type { NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import { classifyTokenError } from "./classify-token";
import { type CredentialProvider, memoryTokenCache } from "./credentials";
import { type Diagnosis, diagnose } from "./diagnoses";
import { TimedHttpClient } from "./http-client";
import { acquireSilently, publicClientFor, TOKEN_TIMEOUT_MS, tokenFrom } from "./msal";
import { delegated, scopesFor } from "./password-grant";
import type { CheckSettings } from "./settings";

/** What Entra answers while the user has not finished: keep polling (the second one, more slowly). */
export type DevicePollAnswer = "authorization_pending" | "slow_down";

/** What the admin is shown (the code to type and where), and the device code the poll sends back. */
export type DeviceCodePrompt = {
  userCode: string;
  verificationUri: string;
  expiresAt: Date;
  message: string;
  /** Entra's handle on this sign-in: whoever holds it may collect the tokens, so it is kept sealed. */
  deviceCode: string;
  /** Seconds between polls, as Entra asked. */
  interval: number;
};

export type DeviceSignInEnd =
  | { ok: true; account: string; cache: string; accessToken: string }
  | {
      ok: false;
      /** declined, expired and bad_code are the device-code answers; refused is any other Entra error. */
      reason: "declined" | "expired" | "bad_code" | "cancelled" | "wrong_account" | "refused";
      diagnosis: Diagnosis;
    };

export type DeviceSignInRequest = {
  settings: CheckSettings;
  authorityHost: string;
  timeoutMs?: number;
  onPrompt(prompt: DeviceCodePrompt): void | Promise<void>;
  onAnswer?(answer: DevicePollAnswer): void | Promise<void>;
  /** Asked after every answer that says "keep polling"; true stops the polling. */
  cancelled?(): boolean | Promise<boolean>;
  /** Asked before every poll; false stops the polling without it (the poll is no longer this process's). */
  mayPoll?(): boolean | Promise<boolean>;
  now?: () => number;
  /** Other scopes than the mailbox's (the Entra setup's Graph scopes); any account may then sign in. */
  scopes?: string[];
  /**
   * Goes on polling a sign-in another process started (and stopped polling): MSAL is handed the code
   * that process was given instead of asking Entra for a new one, so the user's code stays valid.
   */
  resume?: DeviceCodePrompt;
};

/** RFC 8628 §3.5: on slow_down the interval grows by 5 seconds for this and every later request. */
const SLOW_DOWN_STEP_MS = 5_000;
// MSAL sends "device_code"; RFC 8628 names it with a URN.
const DEVICE_CODE_GRANTS = ["device_code", "urn:ietf:params:oauth:grant-type:device_code"];

type PollBody = { error?: string; error_description?: string; error_codes?: number[]; suberror?: string };

/**
 * MSAL's network module for the device-code poll. MSAL keeps polling only on authorization_pending and
 * throws on anything else, so this client honours slow_down itself (a longer wait before every later
 * poll), reports every answer as it comes, and remembers the last refusal for the diagnosis.
 */
class DevicePollingClient extends TimedHttpClient {
  lastRefusal: PollBody | null = null;
  /** Entra refused to give a code at all (unknown app, a resource the tenant lacks, a bad scope). */
  authorizationRefusal: PollBody | null = null;
  private extraDelayMs = 0;
  msalRequest: { cancel?: boolean } = {};

  constructor(
    timeoutMs: number,
    private readonly request: DeviceSignInRequest,
  ) {
    super(timeoutMs);
  }

  override async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const polling = DEVICE_CODE_GRANTS.includes(new URLSearchParams(options?.body ?? "").get("grant_type") ?? "");
    const { resume } = this.request;
    if (!polling && resume) return { headers: {}, status: 200, body: deviceCodeAnswer(resume, this.request.now) as T };
    if (polling && this.extraDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.extraDelayMs));
    if (polling && (await this.request.mayPoll?.()) === false) {
      // MSAL checks its cancel flag before the next poll, and stops.
      this.msalRequest.cancel = true;
      return { headers: {}, status: 400, body: { error: "authorization_pending" } as T };
    }
    const response = await super.sendPostRequestAsync<T>(url, options);
    const body = response.body as PollBody;
    if (!body?.error) return response;
    if (polling && (body.error === "authorization_pending" || body.error === "slow_down")) {
      const answer = body.error;
      if (answer === "slow_down") this.extraDelayMs += SLOW_DOWN_STEP_MS;
      await this.request.onAnswer?.(answer);
      if (await this.request.cancelled?.()) this.msalRequest.cancel = true;
      // MSAL only knows to keep polling on authorization_pending.
      return { ...response, body: { ...body, error: "authorization_pending" } as T };
    }
    if (!polling) {
      // MSAL would show a prompt without a code and poll with none; stop here with Entra's own answer.
      this.authorizationRefusal = body;
      throw new Error(body.error_description ?? body.error);
    }
    this.lastRefusal = body;
    return response;
  }
}

/** Entra's device-code answer (RFC 8628 §3.2) for a sign-in being resumed, with the time it has left. */
function deviceCodeAnswer(prompt: DeviceCodePrompt, now: () => number = Date.now) {
  return {
    device_code: prompt.deviceCode,
    user_code: prompt.userCode,
    verification_uri: prompt.verificationUri,
    expires_in: Math.max(0, Math.floor((prompt.expiresAt.getTime() - now()) / 1000)),
    interval: prompt.interval,
    message: prompt.message,
  };
}

/**
 * Signs the mailbox's user in with a device code: Entra gives a code, the user types it at Microsoft's
 * address and signs in there (MFA included), and the poll gets the tokens. On success the caller gets
 * the MSAL cache, refresh token included, to store; nothing is kept when the account is not the Login.
 */
export async function signInWithDeviceCode(request: DeviceSignInRequest): Promise<DeviceSignInEnd> {
  const { settings } = request;
  const memory = memoryTokenCache();
  const http = new DevicePollingClient(request.timeoutMs ?? TOKEN_TIMEOUT_MS, request);
  const { app } = publicClientFor({ settings, authorityHost: request.authorityHost, cache: memory }, http);
  const now = request.now ?? Date.now;
  let prompted = false;
  const msalRequest = {
    scopes: request.scopes ?? scopesFor(settings),
    cancel: false,
    deviceCodeCallback: (response: {
      userCode: string;
      deviceCode: string;
      verificationUri: string;
      expiresIn: number;
      interval: number;
      message: string;
    }) => {
      prompted = true;
      void request.onPrompt({
        userCode: response.userCode,
        verificationUri: response.verificationUri,
        expiresAt: request.resume?.expiresAt ?? new Date(now() + response.expiresIn * 1000),
        message: response.message,
        deviceCode: response.deviceCode,
        interval: response.interval,
      });
    },
  };
  http.msalRequest = msalRequest;
  try {
    const result = await app.acquireTokenByDeviceCode(msalRequest);
    const account = result?.account?.username ?? "";
    const serialized = memory.current();
    if (!result?.accessToken || !serialized) {
      return { ok: false, reason: "refused", diagnosis: diagnose("UNEXPECTED", "no access token in the answer") };
    }
    if (!request.scopes && account.toLowerCase() !== settings.login.trim().toLowerCase()) {
      const detail = `Signed in as ${account || "an unnamed account"}; the Login is ${settings.login}.`;
      return { ok: false, reason: "wrong_account", diagnosis: diagnose("DEVICE_WRONG_ACCOUNT", detail) };
    }
    return { ok: true, account, cache: serialized, accessToken: result.accessToken };
  } catch (error) {
    return endOf(error, http, prompted);
  }
}

function endOf(error: unknown, http: DevicePollingClient, prompted: boolean): DeviceSignInEnd & { ok: false } {
  const code = (error as { errorCode?: string }).errorCode;
  if (code === "device_code_polling_cancelled") {
    return { ok: false, reason: "cancelled", diagnosis: diagnose("DEVICE_CANCELLED") };
  }
  if (code === "device_code_expired") return { ok: false, reason: "expired", diagnosis: diagnose("DEVICE_EXPIRED") };
  const refusal = http.authorizationRefusal ?? http.lastRefusal;
  if (prompted && refusal?.error === "expired_token") {
    return { ok: false, reason: "expired", diagnosis: diagnose("DEVICE_EXPIRED", refusal.error_description) };
  }
  if (prompted && refusal?.error === "authorization_declined") {
    return { ok: false, reason: "declined", diagnosis: diagnose("DEVICE_DECLINED", refusal.error_description) };
  }
  if (prompted && refusal?.error === "bad_verification_code") {
    return { ok: false, reason: "bad_code", diagnosis: diagnose("DEVICE_BAD_CODE", refusal.error_description) };
  }
  // Any other Entra refusal (unknown app, public client flows off, consent, Conditional Access) is read
  // from the answer itself, exactly as for the other methods.
  const source = refusal
    ? { errorNo: refusal.error_codes?.[0], errorCode: refusal.error, errorMessage: refusal.error_description }
    : error;
  return { ok: false, reason: "refused", diagnosis: classifyTokenError(source, http.lastError, []) };
}

/** Entra's answers that mean the stored sign-in is gone: expired, revoked, or refused as a grant. */
const SIGN_IN_LOST = new Set(["AADSTS700082", "AADSTS50173", "AADSTS50078", "AADSTS50133"]);
/** invalid_grant answers that a new sign-in would not fix: they name their own setup step. */
const NOT_FIXED_BY_SIGN_IN = new Set(["AADSTS65001", "AADSTS50053", "AADSTS50057", "AADSTS53003"]);

/**
 * A mailbox signed in with a device code: the token comes from the cache or is renewed with the stored
 * refresh token (the rotated one is saved by the cache store). There is no grant to fall back to: when
 * the refresh token is refused, the mailbox needs a new sign-in.
 */
export const deviceCode: CredentialProvider = {
  grantLabel: "from the Microsoft sign-in",
  async acquire(request) {
    const { settings } = request;
    const { app, http } = publicClientFor(request);
    const identity = { xoauth2User: settings.login, expect: delegated(settings) };
    const silent = await acquireSilently(app, settings.login, scopesFor(settings));
    if (silent.result) {
      return tokenFrom(silent.result, http.requests === 0 ? "cache" : "refresh", http.requests, identity);
    }
    if (!silent.error) return { ok: false, diagnosis: diagnose("NOT_SIGNED_IN"), requests: http.requests };
    const classified = classifyTokenError(silent.error, http.lastError, []);
    const invalidGrant = (silent.error as { errorCode?: string }).errorCode === "invalid_grant";
    const lost = SIGN_IN_LOST.has(classified.code) || (invalidGrant && !NOT_FIXED_BY_SIGN_IN.has(classified.code));
    const diagnosis = lost ? diagnose("SIGN_IN_AGAIN", classified.detail) : classified;
    return { ok: false, diagnosis, requests: http.requests };
  },
};
