// The qualification quiz: a few short conversations, each ending in a bot message the worker marks
// OK or NOT OK, exactly as they will label messages in the chat. Each label is checked by the server as
// soon as it is given (remote procedure `check_practice_answer`; the right labels never reach the page):
// the verdict and why show under the message, and the label is then fixed (shown as "your label: ...",
// as in the chat), because the server scores the first label checked for each message. Submitted through Mephisto's onboarding submit; the server
// scores it and either starts the chat or explains the block.
import { useRef, useState } from "react";
import { LabelBadge, LabelChoice } from "./LabelChoice.jsx";
import { LABEL_QUESTION } from "./Transcript.jsx";
import { PracticeFeedback } from "../shared/PracticeFeedback.jsx";
import { NO_ANSWER_MS, PRACTICE_CHECK, readVerdict } from "../shared/usePracticeChecks.js";


// The server's verdict `{item, answer, correct, feedback}` on a label, or null when none comes (refused,
// disconnected, or no answer in time): the worker can then still change the label, and the submission counts.
// `token` is this onboarding's secret from its page data: without it the server records nothing.
function checkLabel(remoteProcedure, token, item, answer) {
  const late = new Promise((resolve) => window.setTimeout(() => resolve(null), NO_ANSWER_MS));
  const asked = remoteProcedure(PRACTICE_CHECK)({ item, answer, token }).then(readVerdict, () => null);
  return Promise.race([asked, late]);
}

export function Onboarding({ onboarding, token, onSubmit, remoteProcedure }) {
  const items = onboarding.items || [];
  const [answers, setAnswers] = useState({});
  const [verdicts, setVerdicts] = useState({});
  const [checking, setChecking] = useState({});
  const [sent, setSent] = useState(false);
  const sections = useRef({});
  const submitButton = useRef(null);
  if (sent) return <div className="he-card he-muted" role="status" data-testid="checking">Checking your answers…</div>;
  const complete = items.every((item) => answers[item.id] !== undefined);
  const submit = (event) => {
    event.preventDefault();
    if (!complete) return;
    setSent(true);
    onSubmit({ onboarding_answers: answers });
  };
  const choose = (id, label) => {
    setAnswers((all) => ({ ...all, [id]: label }));
    setChecking((all) => ({ ...all, [id]: true }));
    checkLabel(remoteProcedure, token, id, label).then((verdict) => {
      setChecking((all) => ({ ...all, [id]: false }));
      if (!verdict) return;
      setVerdicts((all) => ({ ...all, [id]: verdict }));
      setAnswers((all) => ({ ...all, [id]: verdict.answer })); // the first label checked, which is the one scored
    });
  };
  // After a verdict: on to the next message still to label, or to Submit once every one is labelled.
  const nextOpen = (id) => items.find((item) => item.id !== id && answers[item.id] === undefined);
  const goOn = (id) => {
    const next = nextOpen(id);
    const target = next ? sections.current[next.id].querySelector("button") : submitButton.current;
    target.focus();
    target.scrollIntoView({ block: "center" });
  };
  return (
    <form onSubmit={submit} data-testid="onboarding">
      <div className="he-card">
        <h1 className="he-title">Before you start: a short practice</h1>
        <p>For each conversation, decide whether the bot's last message is OK to send in a friendly
          conversation with someone you just met online.</p>
        <p>Each label is checked as soon as you give it: you see at once whether it was right, and why. Your
          first label for each message is the one that counts, so it cannot be changed afterwards.</p>
      </div>
      {items.map((item, n) => (
        <section key={item.id} className="he-card" aria-label={`Practice ${n + 1} of ${items.length}`}
                 data-testid="onboarding-item" data-item-id={item.id} ref={(el) => { sections.current[item.id] = el; }}>
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
              {verdicts[item.id] ? <LabelBadge label={answers[item.id]} /> : (
                <LabelChoice value={answers[item.id]} question={`${LABEL_QUESTION} (practice ${n + 1})`}
                             disabled={Boolean(checking[item.id])}
                             onChange={(label) => choose(item.id, label)} testId={`onboarding-${n}`} />
              )}
            </li>
          </ol>
          {checking[item.id] && <p className="he-muted" role="status">Checking your label…</p>}
          {verdicts[item.id] && (
            <PracticeFeedback verdict={verdicts[item.id]} onContinue={() => goOn(item.id)}
                              continueLabel={nextOpen(item.id) ? "Next practice message" : "Go to Submit"} />
          )}
        </section>
      ))}
      <div className="he-card">
        <button ref={submitButton} className="he-button" type="submit" disabled={!complete} data-testid="onboarding-submit">Submit</button>
        {!complete && <span className="he-muted bad-hint"> Answer every practice message first.</span>}
      </div>
    </form>
  );
}
