// One comparison: both conversations side by side, the question, two choices and a required reason.
// The form only moves on when both are given, so Enter in a radio button never skips a comparison.
import { useState } from "react";
import { Conversation } from "./Conversation.jsx";

export function ComparisonForm({ comparison, question, index, total, isOnboarding, onDone }) {
  const [choice, setChoice] = useState(null);
  const [reason, setReason] = useState("");
  const [startedAt] = useState(() => Date.now() / 1000);
  const complete = choice !== null && reason.trim().length > 0;
  const last = index + 1 === total;
  const submit = (event) => {
    event.preventDefault();
    if (!complete) return;
    onDone({ pair_id: comparison.pair_id, choice, reason: reason.trim(), started_at: startedAt,
             submitted_at: Date.now() / 1000 });
  };
  const [left, right] = comparison.conversations;
  const name = `choice-${index}`;
  return (
    <form className="acute-form" onSubmit={submit} noValidate>
      <div className="he-card acute-header">
        <p className="acute-progress" data-testid="progress" aria-live="polite">
          {isOnboarding ? "Practice comparison" : "Comparison"} {index + 1} of {total}
        </p>
        {isOnboarding && (
          <p className="he-muted">First a few practice comparisons with an obvious answer: read both conversations carefully.</p>
        )}
      </div>
      <div className="acute-pair">
        <Conversation conversation={left} side="left" />
        <Conversation conversation={right} side="right" />
      </div>
      <div className="he-card">
        <fieldset className="acute-question">
          <legend className="he-title" data-testid="question">{question.text}</legend>
          {["left", "right"].map((side, i) => (
            <label key={side} className={`he-choice acute-choice acute-${side}`}>
              <input type="radio" name={name} value={side} checked={choice === side}
                     onChange={() => setChoice(side)} data-testid={`choose-${side}`} />
              <span>{question.choices[i]}</span>
            </label>
          ))}
        </fieldset>
        <label htmlFor={`reason-${index}`} className="acute-reason-label">
          Why? <span className="he-muted">(required, a sentence is enough)</span>
        </label>
        <textarea id={`reason-${index}`} rows={3} value={reason} required
                  onChange={(e) => setReason(e.target.value)} data-testid="reason" />
        <p>
          <button className="he-button" type="submit" disabled={!complete} data-testid="next">
            {last ? "Submit" : "Next comparison"}
          </button>
        </p>
      </div>
    </form>
  );
}
