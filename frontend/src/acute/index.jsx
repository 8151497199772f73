// ACUTE-Eval task page: a worker judges the unit's comparisons one after the other (onboarding uses
// the same view), then everything is submitted at once: one judgement per comparison, with its
// reason and the times it was shown and answered.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { useTaskWithPracticeChecks } from "../shared/usePracticeChecks.js";
import { usePracticeStep } from "../shared/PracticeFeedback.jsx";
import { AcuteInstructions } from "./Instructions.jsx";
import { TaskShell, SubmittedNotice } from "../shared/TaskShell.jsx";
import { ComparisonForm } from "./ComparisonForm.jsx";
import "./acute.css";

// The judgements made so far survive a reload of the page (sessionStorage, per agent): a worker who reloads
// mid-unit or mid-practice goes on from where they were instead of starting again from 1.
function savedJudgements(key, comparisons) {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(key) || "[]");
    const ids = comparisons.map((c) => c.pair_id);
    return Array.isArray(saved) && saved.length < comparisons.length
      && saved.every((j, i) => j && j.pair_id === ids[i]) ? saved : [];
  } catch (err) {
    return [];
  }
}

function Unit({ data, agentId, isOnboarding, checkPractice, onSubmit }) {
  const comparisons = data.comparisons || [];
  const key = `humaneval-acute-${agentId}`;
  const [judgements, setJudgements] = useState(() => savedJudgements(key, comparisons));
  const [sent, setSent] = useState(false);
  const practice = usePracticeStep(checkPractice, isOnboarding);
  if (sent) {
    return isOnboarding ? <div className="he-card he-muted" role="status">Checking your answers…</div> : <SubmittedNotice />;
  }
  if (comparisons.length === 0) {
    return (
      <div className="he-card" role="status">
        <p>There is no comparison left for you in this task. Please submit to finish.</p>
        <button className="he-button" onClick={() => { setSent(true); onSubmit({ judgements: [] }); }}>Submit</button>
      </div>
    );
  }
  const index = judgements.length;
  const record = (judgement) => {
    const all = [...judgements, judgement];
    if (all.length === comparisons.length) {
      window.sessionStorage.removeItem(key);
      setSent(true);
      onSubmit({ judgements: all });
    } else {
      window.sessionStorage.setItem(key, JSON.stringify(all));
    }
    setJudgements(all);
    window.scrollTo(0, 0);
  };
  // A practice answer is checked by the server first (right or wrong, and why); the worker continues from there.
  const done = (judgement) => practice.answer(judgement.pair_id, judgement.choice, judgement, record);
  return (
    <ComparisonForm key={index} comparison={comparisons[Math.min(index, comparisons.length - 1)]}
                    question={data.question} index={index} total={comparisons.length}
                    isOnboarding={isOnboarding} minReasonWords={data.min_reason_words} onDone={done}
                    checking={practice.checking} verdict={practice.verdict} onContinue={practice.goOn} />
  );
}

function AcuteTask() {
  const mephisto = useTaskWithPracticeChecks();
  const data = mephisto.initialTaskData;
  return (
    <TaskShell mephisto={mephisto} instructions={<AcuteInstructions />} title="Compare two conversations"
               preview={<p>Read two conversations side by side and say which speaker you prefer, and why.</p>}>
      {data && <Unit key={mephisto.agentId} data={data} agentId={mephisto.agentId} isOnboarding={!!mephisto.isOnboarding}
                     checkPractice={mephisto.checkPractice} onSubmit={mephisto.handleSubmit} />}
    </TaskShell>
  );
}

createRoot(document.getElementById("app")).render(<AcuteTask />);
