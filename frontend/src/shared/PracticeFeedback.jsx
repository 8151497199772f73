// What a worker reads after a practice answer: the server's verdict ("Right: ..." / "Not quite: ...",
// with the onboarding file's explanation) and one button to go on. The button takes the focus, so a
// keyboard user hears the verdict (role=status) and presses Enter to continue.
import { useEffect, useRef, useState } from "react";

export function PracticeFeedback({ verdict, continueLabel, onContinue }) {
  const button = useRef(null);
  useEffect(() => { if (button.current) button.current.focus(); }, []);
  return (
    <div className={`he-feedback ${verdict.correct ? "he-feedback-right" : "he-feedback-wrong"}`}
         data-testid="practice-feedback" data-correct={verdict.correct ? "true" : "false"}>
      <p role="status">{verdict.feedback}</p>
      <button ref={button} type="button" className="he-button" onClick={onContinue} data-testid="practice-continue">
        {continueLabel}
      </button>
    </div>
  );
}

// The practice flow of a page that asks the server about each answer (usePracticeChecks.js): `answer`
// checks an answer while practising and holds it, with its verdict, until the worker continues (`goOn`);
// outside practice, or when no verdict comes, the answer goes straight on to `proceed`.
export function usePracticeStep(checkPractice, isOnboarding) {
  const [held, setHeld] = useState(null);
  const [checking, setChecking] = useState(false);
  const answer = (item, value, record, proceed) => {
    if (!isOnboarding || !checkPractice) {
      proceed(record);
      return;
    }
    setChecking(true);
    checkPractice(item, value).then((verdict) => {
      setChecking(false);
      if (verdict) setHeld({ verdict, record, proceed });
      else proceed(record);
    });
  };
  const goOn = () => {
    setHeld(null);
    held.proceed(held.record);
  };
  return { verdict: held ? held.verdict : null, checking, answer, goOn };
}

// The foot of a form that asks one item at a time: the practice verdict with its "go on" button once the server
// answered, else the submit button ("Check my answer" in practice, "Checking…" while the server is asked).
// `noun` names the item in the buttons ("comparison", "item").
export function AnswerFoot({ verdict, checking, isOnboarding, last, complete, noun, onContinue }) {
  if (verdict) {
    return <PracticeFeedback verdict={verdict} onContinue={onContinue}
                             continueLabel={last ? "Finish the practice" : `Next practice ${noun}`} />;
  }
  return (
    <p>
      <button className="he-button" type="submit" disabled={!complete || checking} data-testid="next">
        {checking ? "Checking…" : isOnboarding ? "Check my answer" : last ? "Submit" : `Next ${noun}`}
      </button>
    </p>
  );
}
