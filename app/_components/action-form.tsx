"use client";

import { createContext, useActionState, useContext, useId } from "react";
import type { ActionResult } from "@/lib/action-result";
import { CopyButton } from "./copy-button";

type Action = (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;

const FormState = createContext<ActionResult | null>(null);

/** A form bound to a server action: shows the summary, keeps what was typed on failure. */
export function ActionForm({
  action,
  submitLabel,
  pendingLabel = "Saving…",
  children,
  className,
  inline = false,
  id,
}: {
  action: Action;
  submitLabel: string;
  pendingLabel?: string;
  children?: React.ReactNode;
  className?: string;
  inline?: boolean;
  id?: string;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form id={id} action={formAction} noValidate className={className ?? (inline ? "inline-form" : "form")}>
      <FormState.Provider value={state}>
        {children}
        <div className="form-actions">
          <button type="submit" disabled={pending} aria-busy={pending}>
            {pending ? pendingLabel : submitLabel}
          </button>
          <span aria-live="polite">
            {state && !state.ok && (
              <span role="alert" className="form-error">
                {state.error}
              </span>
            )}
            {state?.ok && <span className="form-ok">{state.message}</span>}
          </span>
        </div>
        {state?.ok && state.reveal && (
          <div className="reveal" role="status">
            <p>
              <strong>{state.reveal.label}</strong> It is shown only now: copy it into the system that uses it.
            </p>
            <div className="command">
              <pre data-reveal>{state.reveal.value}</pre>
              <CopyButton text={state.reveal.value} label="Copy" copiedLabel="Copied" />
            </div>
          </div>
        )}
      </FormState.Provider>
    </form>
  );
}

type FieldProps = {
  name: string;
  label: string;
  hint?: string;
  type?: "text" | "email" | "password" | "number" | "date";
  defaultValue?: string;
  autoComplete?: string;
  maxLength?: number;
  placeholder?: string;
  inputMode?: "numeric" | "email" | "text";
  children?: React.ReactNode;
};

export function Field({
  name,
  label,
  hint,
  type = "text",
  defaultValue,
  autoComplete,
  maxLength,
  placeholder,
  inputMode,
  children,
}: FieldProps) {
  const { errors, typed, ids } = useFieldState(name);
  // Passwords are never put back into a form.
  const value = type === "password" ? undefined : (typed ?? defaultValue);
  return (
    <div className="field">
      <label htmlFor={ids.input}>{label}</label>
      <input
        id={ids.input}
        name={name}
        type={type}
        defaultValue={value}
        autoComplete={autoComplete}
        maxLength={maxLength}
        placeholder={placeholder}
        inputMode={inputMode}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(ids, hint, errors)}
      />
      {children}
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </div>
  );
}

/** A multi-line field (PEM blocks); a secret one is never put back into the form. */
export function TextAreaField({
  name,
  label,
  hint,
  defaultValue,
  secret = false,
  placeholder,
  children,
}: Pick<FieldProps, "name" | "label" | "hint" | "defaultValue" | "placeholder" | "children"> & { secret?: boolean }) {
  const { errors, typed, ids } = useFieldState(name);
  return (
    <div className="field">
      <label htmlFor={ids.input}>{label}</label>
      <textarea
        id={ids.input}
        name={name}
        rows={5}
        spellCheck={false}
        autoComplete="off"
        defaultValue={secret ? undefined : (typed ?? defaultValue)}
        data-secret={secret ? "" : undefined}
        placeholder={placeholder}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(ids, hint, errors)}
      />
      {children}
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </div>
  );
}

export function CheckboxField({
  name,
  label,
  hint,
  defaultChecked = false,
}: {
  name: string;
  label: string;
  hint?: string;
  defaultChecked?: boolean;
}) {
  const { errors, failed, ids } = useFieldState(name);
  // An unchecked box is absent from the form data, so after a failed save absence means "off".
  const checked = failed ? failed.values[name] === "on" : defaultChecked;
  return (
    <div className="field checkbox">
      <input
        key={String(checked)}
        id={ids.input}
        name={name}
        type="checkbox"
        defaultChecked={checked}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(ids, hint, errors)}
      />
      <label htmlFor={ids.input}>{label}</label>
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </div>
  );
}

/** What was chosen in a field that repeats (the action joins the values with commas) before a failed save. */
function listValues(failed: { values: Record<string, string> } | undefined | null, name: string): string[] {
  return (failed?.values[name] ?? "").split(",").filter(Boolean);
}

/** Several boxes under one name (permissions); after a failed save the ticked ones stay ticked. */
export function CheckboxGroupField({
  name,
  legend,
  hint,
  options,
}: {
  name: string;
  legend: string;
  hint?: string;
  options: { value: string; label: string }[];
}) {
  const { errors, failed, ids } = useFieldState(name);
  const ticked = new Set(listValues(failed, name));
  return (
    <fieldset className="field checkbox-group" aria-describedby={describedBy(ids, hint, errors)}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="checkbox">
          <input
            key={String(ticked.has(option.value))}
            type="checkbox"
            name={name}
            value={option.value}
            defaultChecked={ticked.has(option.value)}
          />{" "}
          {option.label}
        </label>
      ))}
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </fieldset>
  );
}

/** A list to pick any number from (mailboxes); none picked is a choice too. */
export function MultiSelectField({
  name,
  label,
  hint,
  options,
}: {
  name: string;
  label: string;
  hint?: string;
  options: { value: string; label: string }[];
}) {
  const { errors, failed, ids } = useFieldState(name);
  const chosen = listValues(failed, name);
  return (
    <div className="field">
      <label htmlFor={ids.input}>{label}</label>
      <select
        key={chosen.join(",")}
        id={ids.input}
        name={name}
        multiple
        size={Math.min(8, Math.max(3, options.length))}
        defaultValue={chosen}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(ids, hint, errors)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </div>
  );
}

export function SelectField({
  name,
  label,
  hint,
  options,
  defaultValue,
}: Omit<FieldProps, "type"> & { options: { value: string; label: string }[] }) {
  const { errors, typed, ids } = useFieldState(name);
  return (
    <div className="field">
      <label htmlFor={ids.input}>{label}</label>
      {/* A select takes defaultValue only when mounted: remount it to show what was chosen. */}
      <select
        key={typed ?? defaultValue ?? ""}
        id={ids.input}
        name={name}
        defaultValue={typed ?? defaultValue}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(ids, hint, errors)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldNotes ids={ids} hint={hint} errors={errors} />
    </div>
  );
}

function FieldNotes({ ids, hint, errors }: { ids: Ids; hint?: string; errors?: string[] }) {
  return (
    <>
      {hint && (
        <p id={ids.hint} className="hint">
          {hint}
        </p>
      )}
      {errors && (
        <p id={ids.error} className="field-error">
          {errors.join(" ")}
        </p>
      )}
    </>
  );
}

type Ids = { input: string; hint: string; error: string };

function useFieldState(name: string) {
  const state = useContext(FormState);
  const id = useId();
  const failed = state && !state.ok ? state : null;
  return {
    failed,
    errors: failed?.fieldErrors[name],
    typed: failed?.values[name],
    ids: { input: `${id}-input`, hint: `${id}-hint`, error: `${id}-error` },
  };
}

function describedBy(ids: Ids, hint?: string, errors?: string[]): string | undefined {
  const parts = [hint ? ids.hint : null, errors ? ids.error : null].filter(Boolean);
  return parts.length ? parts.join(" ") : undefined;
}
