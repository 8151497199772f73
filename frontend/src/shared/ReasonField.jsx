// The "Why?" box of a judgement, with its word minimum counted as the worker types ("2 of 5 words").
// Words are counted as the server counts them (crowd/page_answers.reason_words): runs of non-space
// characters. `minWords` 0 makes the reason optional; above 0 it is required.
export const wordCount = (text) => text.split(/\s+/).filter(Boolean).length;

export function reasonComplete(text, minWords) {
  return wordCount(text) >= minWords;
}

export function ReasonField({ id, value, onChange, minWords, rows, readOnly, className }) {
  const words = wordCount(value);
  const hintId = `${id}-hint`;
  const rule = minWords === 0 ? "optional"
    : minWords === 1 ? "required; a sentence is enough"
    : `required, at least ${minWords} words; a sentence is enough`;
  return (
    <>
      <label htmlFor={id} className={className}>
        Why? <span className="he-muted">({rule})</span>
      </label>
      <textarea id={id} rows={rows} value={value} required={minWords > 0} readOnly={readOnly}
                aria-describedby={minWords > 1 ? hintId : undefined}
                onChange={(e) => onChange(e.target.value)} data-testid="reason" />
      {minWords > 1 && (
        <p id={hintId} className={words >= minWords ? "he-muted" : "he-hint"} aria-live="polite" data-testid="reason-hint">
          {words >= minWords ? `${words} words` : `${words} of ${minWords} words`}
        </p>
      )}
    </>
  );
}
