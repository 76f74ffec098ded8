import "server-only";
import { CATALOGUE, type Diagnosis, type DiagnosisCode, diagnose } from "./diagnoses";
import { redact } from "./redact";

type MsalLikeError = {
  errorNo?: string | number;
  errorCode?: string;
  errorMessage?: string;
  subError?: string;
  correlationId?: string;
};

/** Classifies on Entra's error number (error_codes[0], MSAL's errorNo), never on the sentence. */
export function classifyTokenError(
  error: unknown,
  transportError: NodeJS.ErrnoException | null,
  secrets: (string | null)[],
): Diagnosis {
  const e = (error ?? {}) as MsalLikeError;
  const number =
    e.errorNo !== undefined && e.errorNo !== "" ? String(e.errorNo) : /^AADSTS(\d+)/.exec(e.errorMessage ?? "")?.[1];
  const detail = redact(
    [e.errorCode, e.subError && `(${e.subError})`, e.errorMessage].filter(Boolean).join(" ") || String(error),
    secrets,
  );
  if (number) {
    const code = `AADSTS${number}`;
    if (code in CATALOGUE) return diagnose(code as DiagnosisCode, detail);
    return { ...diagnose("AADSTS_OTHER", detail), code };
  }
  if (transportError) {
    const transport = transportError.code ?? "";
    if (transport === "ETIMEDOUT" || transport === "ECONNRESET")
      return diagnose("TOKEN_TIMEOUT", redact(`${transport} ${transportError.message}`, secrets));
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(transport))
      return diagnose("TLS_CERTIFICATE", `${transport} ${transportError.message}`);
    return diagnose("TOKEN_UNREACHABLE", redact(`${transport} ${transportError.message}`, secrets));
  }
  return diagnose("UNEXPECTED", detail);
}
