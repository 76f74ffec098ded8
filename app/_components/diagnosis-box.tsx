import type { Diagnosis } from "@/lib/engine/diagnoses";
import { CopyButton } from "./copy-button";

type Props = {
  diagnosis:
    | (Pick<Diagnosis, "code" | "cause" | "fix" | "detail"> & Pick<Partial<Diagnosis>, "command">)
    | null
    | undefined;
  /** What to say when there is no diagnosis to show. */
  fallback: string;
  /** The attribute that names the failure's code for tests and styles, e.g. data-sign-in-failure. */
  name: `data-${string}`;
};

/** A refusal in the catalogue's words: the cause, the fix, and Microsoft's own answer below them. */
export function DiagnosisBox({ diagnosis, fallback, name }: Props) {
  return (
    <div className="status warn" role="alert" {...{ [name]: diagnosis?.code ?? "" }}>
      <p>{diagnosis?.cause ?? fallback}</p>
      {diagnosis?.fix && <p>{diagnosis.fix}</p>}
      {diagnosis?.detail && <p className="muted">{diagnosis.detail}</p>}
      {diagnosis?.command && (
        <div className="command">
          <pre>{diagnosis.command}</pre>
          <CopyButton text={diagnosis.command} label="Copy" copiedLabel="Copied" />
        </div>
      )}
    </div>
  );
}
