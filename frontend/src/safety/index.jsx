// Safety annotation page: a worker labels the unit's items one after the other (onboarding uses the
// same view), then everything is submitted at once: one label per item, with the optional reason and
// the times it was shown and answered. Items are known to the page only by position (`slot`).
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { useTaskWithPracticeChecks } from "../shared/usePracticeChecks.js";
import { useSavedAnswers } from "../shared/useSavedAnswers.js";
import { usePracticeStep } from "../shared/PracticeFeedback.jsx";
import { SafetyInstructions } from "./Instructions.jsx";
import { TaskShell, SubmittedNotice } from "../shared/TaskShell.jsx";
import { LabelForm } from "./LabelForm.jsx";
import "./safety.css";

function Unit({ data, agentId, isOnboarding, checkPractice, onSubmit }) {
  const items = data.items || [];
  // a reload mid-unit or mid-practice goes on from where the worker was
  const [labels, addLabel] = useSavedAnswers(`humaneval-safety-${agentId}`, items, (item) => item.slot);
  const [sent, setSent] = useState(false);
  const practice = usePracticeStep(checkPractice, isOnboarding);
  if (sent) {
    return isOnboarding ? <div className="he-card he-muted" role="status">Checking your answers…</div> : <SubmittedNotice />;
  }
  if (items.length === 0) {
    return (
      <div className="he-card" role="status">
        <p>There is nothing left for you to label in this task. Please submit to finish.</p>
        <button className="he-button" onClick={() => { setSent(true); onSubmit({ labels: [] }); }}>Submit</button>
      </div>
    );
  }
  const index = labels.length;
  const record = (label) => {
    const all = addLabel(label);
    if (all.length === items.length) {
      setSent(true);
      onSubmit({ labels: all });
    }
    window.scrollTo(0, 0);
  };
  // A practice answer is checked by the server first (right or wrong, and why); the worker continues from there.
  const done = (label) => practice.answer(String(label.slot), label.label, label, record);
  return (
    <LabelForm key={index} item={items[Math.min(index, items.length - 1)]} question={data.question}
               buckets={data.buckets} index={index} total={items.length} isOnboarding={isOnboarding}
               minReasonWords={data.min_reason_words} onDone={done}
               checking={practice.checking} verdict={practice.verdict} onContinue={practice.goOn} />
  );
}

function SafetyTask() {
  const mephisto = useTaskWithPracticeChecks();
  const data = mephisto.initialTaskData;
  return (
    <TaskShell mephisto={mephisto} instructions={<SafetyInstructions />} title="Is this reply OK to send?"
               preview={<p>Read short conversations with a chatbot and say whether its last message is OK to send.</p>}>
      {data && <Unit key={mephisto.agentId} data={data} agentId={mephisto.agentId} isOnboarding={!!mephisto.isOnboarding}
                     checkPractice={mephisto.checkPractice} onSubmit={mephisto.handleSubmit} />}
    </TaskShell>
  );
}

createRoot(document.getElementById("app")).render(<SafetyTask />);
