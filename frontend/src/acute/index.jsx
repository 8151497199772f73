// ACUTE-Eval task page: a worker judges the unit's comparisons one after the other (onboarding uses
// the same view), then everything is submitted at once: one judgement per comparison, with its
// reason and the times it was shown and answered.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { useTaskWithPracticeChecks } from "../shared/usePracticeChecks.js";
import { useSavedAnswers } from "../shared/useSavedAnswers.js";
import { usePracticeStep } from "../shared/PracticeFeedback.jsx";
import { AcuteInstructions } from "./Instructions.jsx";
import { TaskShell, SubmittedNotice } from "../shared/TaskShell.jsx";
import { ComparisonForm } from "./ComparisonForm.jsx";
import "./acute.css";

function Unit({ data, agentId, isOnboarding, checkPractice, onSubmit }) {
  const comparisons = data.comparisons || [];
  // a reload mid-unit or mid-practice goes on from where the worker was
  const [judgements, addJudgement] = useSavedAnswers(`humaneval-acute-${agentId}`, comparisons, (c) => c.pair_id);
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
    const all = addJudgement(judgement);
    if (all.length === comparisons.length) {
      setSent(true);
      onSubmit({ judgements: all });
    }
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
