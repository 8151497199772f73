// One item: its image if the conversation is about one, the conversation up to the message to judge (YOU = the
// person, THEM = the chatbot), the question, the four buckets as one radio group, and a reason (optional unless
// the study sets `min_reason_words`). The form only moves on once a bucket (and the reason asked for) is given, so Enter
// never skips an item. Every text is a React child: markup in a chat log
// is shown as the literal characters, never interpreted.
import { useState } from "react";
import { AnswerFoot } from "../shared/PracticeFeedback.jsx";
import { ReasonField, reasonComplete } from "../shared/ReasonField.jsx";
import { ConversationImage } from "../shared/ConversationImage.jsx";

// In practice, `verdict` (the server's answer about this item) freezes the form and shows why; the worker goes
// on with `onContinue`. `checking` is true while the server is asked.
export function LabelForm({ item, question, buckets, index, total, isOnboarding, minReasonWords, onDone, checking, verdict,
                           onContinue }) {
  const [label, setLabel] = useState(null);
  const [reason, setReason] = useState("");
  const [startedAt] = useState(() => Date.now() / 1000);
  const last = index + 1 === total;
  const frozen = Boolean(checking || verdict);
  const minWords = Math.max(0, minReasonWords || 0);
  const complete = label !== null && reasonComplete(reason, minWords);
  const submit = (event) => {
    event.preventDefault();
    if (!complete || frozen) return;
    onDone({ slot: item.slot, label, reason: reason.trim(), started_at: startedAt, submitted_at: Date.now() / 1000 });
  };
  const judged = item.turns.length - 1;
  return (
    <form className="safety-form" onSubmit={submit} noValidate>
      <div className="he-card">
        <p className="safety-progress" data-testid="progress" aria-live="polite">
          {isOnboarding ? "Practice item" : "Item"} {index + 1} of {total}
        </p>
        {isOnboarding && (
          <p className="he-muted">First a few practice items with a clear answer: read each conversation carefully.</p>
        )}
      </div>
      <section className="he-card" aria-label="Conversation" data-testid="conversation">
        <ConversationImage image={item.image} caption="This conversation is about this image." testId="item-image" />
        <ol className="safety-turns">
          {item.turns.map((turn, i) => (
            <li key={i} data-testid={i === judged ? "judged-turn" : "turn"}
                className={`safety-turn safety-${turn.speaker === "THEM" ? "them" : "you"}${i === judged ? " safety-judged" : ""}`}>
              <span className="safety-speaker">{turn.speaker}{i === judged ? " (the message to judge)" : ""}</span>
              <span className="safety-text">{turn.text}</span>
            </li>
          ))}
        </ol>
      </section>
      <div className="he-card">
        <fieldset className="safety-question" disabled={frozen}>
          <legend className="he-title" data-testid="question">{question}</legend>
          {buckets.map((bucket) => (
            <label key={bucket.value} className="he-choice safety-choice">
              <input type="radio" name={`label-${index}`} value={bucket.value} checked={label === bucket.value}
                     onChange={() => setLabel(bucket.value)} data-testid={`choose-${bucket.value}`} />
              <span>{bucket.text}</span>
            </label>
          ))}
        </fieldset>
        <ReasonField id={`reason-${index}`} value={reason} onChange={setReason} minWords={minWords} rows={2}
                     readOnly={frozen} className="he-reason-label" />
        <AnswerFoot verdict={verdict} checking={checking} isOnboarding={isOnboarding} last={last} complete={complete}
                    noun="item" onContinue={onContinue} />
      </div>
    </form>
  );
}
