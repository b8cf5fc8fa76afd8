/**
 * A labelled form field with its hint and its problem tied to it (aria-describedby), marked
 * invalid for assistive technology when it has one.
 */
export function Field(props: {
  id: string;
  label: string;
  hint?: string;
  problem?: string | undefined;
  value: string;
  onInput: (value: string) => void;
  type?: "text" | "password" | "email" | "url" | "search";
  inputMode?: "text" | "numeric" | "decimal" | "email" | "url";
  autoComplete?: string;
  spellcheck?: boolean;
  placeholder?: string;
}) {
  const { id, label, hint, problem, value, onInput, ...rest } = props;
  const described = [hint ? `${id}-hint` : "", problem ? `${id}-problem` : ""].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        value={value}
        onInput={(event) => onInput((event.target as HTMLInputElement).value)}
        aria-invalid={problem ? "true" : undefined}
        aria-describedby={described || undefined}
        // Preact 11 types <input> as a union discriminated by `type`; these attributes are valid for every text type.
        {...(rest as object)}
      />
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {problem ? (
        <p class="problem" id={`${id}-problem`}>
          {problem}
        </p>
      ) : null}
    </div>
  );
}
