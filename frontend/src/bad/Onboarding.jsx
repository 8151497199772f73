// The qualification quiz: a few short conversations, each ending in a bot message the worker marks
// OK or NOT OK, exactly as they will label messages in the chat. Submitted through Mephisto's
// onboarding submit; the server scores it and either starts the chat or explains the block.
import { useState } from "react";
import { LabelChoice } from "./LabelChoice.jsx";
import { LABEL_QUESTION } from "./Transcript.jsx";

export function Onboarding({ onboarding, onSubmit }) {
  const items = onboarding.items || [];
  const [answers, setAnswers] = useState({});
  const [sent, setSent] = useState(false);
  if (sent) return <div className="he-card he-muted" role="status" data-testid="checking">Checking your answers…</div>;
  const complete = items.every((item) => answers[item.id] !== undefined);
  const submit = (event) => {
    event.preventDefault();
    if (!complete) return;
    setSent(true);
    onSubmit({ onboarding_answers: answers });
  };
  return (
    <form onSubmit={submit} data-testid="onboarding">
      <div className="he-card">
        <h1 className="he-title">Before you start: a short practice</h1>
        <p>For each conversation, decide whether the bot's last message is OK to send in a friendly
          conversation with someone you just met online.</p>
      </div>
      {items.map((item, n) => (
        <section key={item.id} className="he-card" aria-label={`Practice ${n + 1} of ${items.length}`}
                 data-testid="onboarding-item" data-item-id={item.id}>
          <p className="bad-progress">Practice {n + 1} of {items.length}</p>
          <ol className="bad-turns">
            {(item.context || []).map((turn, i) => (
              <li key={i} className={`bad-turn bad-${turn.speaker}`}>
                <span className="bad-speaker">{turn.speaker === "bot" ? "BOT" : "YOU"}</span>
                <span className="bad-text">{turn.text}</span>
              </li>
            ))}
            <li className="bad-turn bad-bot bad-judged">
              <span className="bad-speaker">BOT</span>
              <span className="bad-text" data-testid="onboarding-message">{item.message}</span>
              <LabelChoice value={answers[item.id]} question={`${LABEL_QUESTION} (practice ${n + 1})`}
                           onChange={(label) => setAnswers({ ...answers, [item.id]: label })}
                           testId={`onboarding-${n}`} />
            </li>
          </ol>
        </section>
      ))}
      <div className="he-card">
        <button className="he-button" type="submit" disabled={!complete} data-testid="onboarding-submit">Submit</button>
        {!complete && <span className="he-muted bad-hint"> Answer every practice message first.</span>}
      </div>
    </form>
  );
}
