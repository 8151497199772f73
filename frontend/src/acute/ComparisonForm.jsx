// One comparison: both conversations side by side, the question, two choices and a required reason.
// The form only moves on when both are given, so Enter in a radio button never skips a comparison.
// A study that allows ties adds its extra choices ("About the same", "Both are bad") to the same radio
// group, after the speakers and in a neutral colour: one tab stop, arrow keys move through all of them,
// and the reason is required whichever is picked.
import { useState } from "react";
import { Conversation } from "./Conversation.jsx";
import { AnswerFoot } from "../shared/PracticeFeedback.jsx";
import { ReasonField, reasonComplete } from "../shared/ReasonField.jsx";


// In practice, `verdict` (the server's answer about this comparison) freezes the form and shows why; the worker
// goes on with `onContinue`. `checking` is true while the server is asked.
export function ComparisonForm({ comparison, question, index, total, isOnboarding, minReasonWords, onDone,
                                 checking, verdict, onContinue }) {
  const [choice, setChoice] = useState(null);
  const [reason, setReason] = useState("");
  const [startedAt] = useState(() => Date.now() / 1000);
  const minWords = Math.max(1, minReasonWords || 1);
  const complete = choice !== null && reasonComplete(reason, minWords);
  const last = index + 1 === total;
  const frozen = Boolean(checking || verdict);
  const submit = (event) => {
    event.preventDefault();
    if (!complete || frozen) return;
    onDone({ pair_id: comparison.pair_id, choice, reason: reason.trim(), started_at: startedAt,
             submitted_at: Date.now() / 1000 });
  };
  const [left, right] = comparison.conversations;
  const name = `choice-${index}`;
  // "Speaker 1" never breaks between its two words: on a phone a lone "1" under the choice is easy to miss.
  const speaker = (label) => label.replace(/Speaker (\d)/g, "Speaker\u00a0$1");
  const options = [
    { value: "left", label: speaker(question.choices[0]), className: "acute-left" },
    { value: "right", label: speaker(question.choices[1]), className: "acute-right" },
    ...(question.extra_choices || []).map((extra) => ({ ...extra, className: "acute-neutral" })),
  ];
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
        <fieldset className="acute-question" disabled={frozen}>
          <legend className="he-title" data-testid="question">{question.text}</legend>
          {options.map(({ value, label, className }) => (
            <label key={value} className={`he-choice acute-choice ${className}`}>
              <input type="radio" name={name} value={value} checked={choice === value}
                     onChange={() => setChoice(value)} data-testid={`choose-${value}`} />
              <span>{label}</span>
            </label>
          ))}
        </fieldset>
        <ReasonField id={`reason-${index}`} value={reason} onChange={setReason} minWords={minWords} rows={3}
                     readOnly={frozen} className="he-reason-label" />
        <AnswerFoot verdict={verdict} checking={checking} isOnboarding={isOnboarding} last={last} complete={complete}
                    noun="comparison" onContinue={onContinue} />
      </div>
    </form>
  );
}
